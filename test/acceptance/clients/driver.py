#!/usr/bin/python3
"""Child-process driver for confluent-kafka-python (librdkafka) in Strata's
acceptance tests; see index.ts in this directory.

Run it with /usr/bin/python3: Debian's python3-confluent-kafka is installed
for that interpreter, not for whatever python3 comes first on PATH.

  driver.py create-topic <bootstrap> <topic> <partitions>
  driver.py produce      <bootstrap> <topic> <none|gzip|snappy|lz4|zstd>   (records on stdin)
  driver.py consume      <bootstrap> <topic> <partition>=<count>[,...]
  driver.py group-consume <bootstrap> <topic> <group> [session.timeout.ms=N]
            [heartbeat.interval.ms=N] [client.id=S]   (until stdin closes; lines in driver-io.ts)
  driver.py version      (no broker: prints the client library's version)

Records on stdin, one per line: space separated tokens
"key value headerCount [headerName headerValue]...", each byte string being
"~" for null or ":" followed by its base64.

Output: one JSON object per line on stdout, bytes as lowercase hex:
  produce: {"index":i,"partition":p,"offset":o} or {"index":i,"error":"..."}
  consume: {"partition":p,"offset":o,"key":hex|null,"value":hex|null,"headers":[[name,hex|null],...]}
  last on success: {"event":"done",...}
Diagnostics go to stderr; the exit code is 0 only if everything succeeded.
"""

import base64
import json
import os
import sys
import threading

import confluent_kafka
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

OUT = sys.stdout

# python3-confluent-kafka 1.7.0 drops a reference to None for every null
# header value Message.headers() returns (confluent-kafka-python issue #1191).
# On Python < 3.12 None is not immortal: after a few thousand such headers the
# interpreter aborts ("none_dealloc: deallocating None"), at the latest while
# finalizing. Hold a million extra references for the run, and leave with
# os._exit() so that finalization never counts them back down.
_NONE_PIN = [None] * (1 << 20)


def emit(obj):
    OUT.write(json.dumps(obj, separators=(",", ":")))
    OUT.write("\n")


def common(bootstrap, client_id):
    return {
        "bootstrap.servers": bootstrap,
        "client.id": client_id,
        "broker.address.family": "v4",
    }


def hex_or_none(b):
    return None if b is None else b.hex()


def decode_token(tok):
    if tok == "~":
        return None
    if not tok.startswith(":"):
        raise ValueError("bad record token: %r" % tok[:20])
    return base64.b64decode(tok[1:])


def read_records():
    records = []
    for n, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        t = line.split(" ")
        count = int(t[2])
        if len(t) != 3 + 2 * count:
            raise ValueError("bad header count on record line %d" % n)
        headers = []
        for i in range(count):
            name = decode_token(t[3 + 2 * i])
            if name is None:
                raise ValueError("null header name on record line %d" % n)
            headers.append((name.decode("utf-8"), decode_token(t[4 + 2 * i])))
        records.append((decode_token(t[0]), decode_token(t[1]), headers))
    return records


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient(common(bootstrap, "strata-acceptance-python-admin"))
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=30, request_timeout=30)
    futures[topic].result(timeout=60)
    emit({"event": "created", "topic": topic, "partitions": partitions})
    return 0


def produce(bootstrap, topic, codec):
    """librdkafka producer: acks=all, linger 10 ms, the given codec. The
    partitioner stays librdkafka's default (consistent_random: CRC32 of the
    key); idempotence stays off, librdkafka's default."""
    records = read_records()
    conf = common(bootstrap, "strata-acceptance-python")
    conf.update({
        "acks": "all",
        "linger.ms": 10,
        "compression.type": codec,
    })
    producer = Producer(conf)
    results = [None] * len(records)

    def on_delivery(index):
        def cb(err, msg):
            if err is not None:
                results[index] = {"index": index, "error": str(err)}
            else:
                results[index] = {"index": index, "partition": msg.partition(), "offset": msg.offset()}
        return cb

    for i, (key, value, headers) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=headers, on_delivery=on_delivery(i))
                break
            except BufferError:
                # Local queue full: serve delivery reports, then retry.
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(120)
    failed = 0
    for i, r in enumerate(results):
        if r is None:
            r = {"index": i, "error": "no delivery report"}
        if "error" in r:
            failed += 1
        emit(r)
    emit({"event": "done", "records": len(records), "failed": failed, "unflushed": remaining})
    return 0 if failed == 0 else 1


def consume(bootstrap, topic, expected):
    """Consumer.assign() at OFFSET_BEGINNING; no subscribe, no commits.
    librdkafka's assign() lives on its group handle, so a group.id must be
    configured even though the group is never joined."""
    conf = common(bootstrap, "strata-acceptance-python-consumer")
    conf.update({
        "group.id": "strata-acceptance-python-unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    })
    consumer = Consumer(conf)
    seen = {p: 0 for p in expected}
    total = 0
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(expected)])
        while any(seen[p] < expected[p] for p in expected):
            for msg in consumer.consume(num_messages=1000, timeout=0.5):
                err = msg.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        sys.stderr.write("consume error: %s\n" % err)
                    continue
                p = msg.partition()
                if p not in seen or seen[p] >= expected[p]:
                    continue
                seen[p] += 1
                total += 1
                emit({
                    "partition": p,
                    "offset": msg.offset(),
                    "key": hex_or_none(msg.key()),
                    "value": hex_or_none(msg.value()),
                    "headers": [[k, hex_or_none(v)] for k, v in (msg.headers() or [])],
                })
            OUT.flush()
    finally:
        consumer.close()
    emit({"event": "done", "records": total})
    return 0


GROUP_SETTINGS = ("session.timeout.ms", "heartbeat.interval.ms", "client.id")


def group_consume(bootstrap, topic, group, settings):
    """A group member, subscribed to topic, until stdin closes; the lines it
    prints are described in driver-io.ts. librdkafka's default assignors
    ("range,roundrobin") and eager rebalancing; no auto-commit: every
    non-empty batch is followed by a synchronous commit of the offset after
    each partition's last record. librdkafka names neither the member id nor
    the generation through this binding, so those are null."""
    conf = common(bootstrap, settings.pop("client.id", "strata-acceptance-python-member"))
    conf.update({
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    })
    conf.update({k: int(v) for k, v in settings.items()})
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    def partitions_of(tps):
        return sorted(tp.partition for tp in tps if tp.topic == topic)

    def on_assign(_consumer, tps):
        emit({"event": "assigned", "partitions": partitions_of(tps), "memberId": None, "generation": None,
              "protocol": None})
        OUT.flush()

    def on_revoke(_consumer, tps):
        emit({"event": "revoked", "partitions": partitions_of(tps)})
        OUT.flush()

    def on_lost(_consumer, tps):
        emit({"event": "lost", "partitions": partitions_of(tps)})
        OUT.flush()

    consumer = Consumer(conf)
    try:
        consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
        while not stop.is_set():
            nxt = {}
            for msg in consumer.consume(num_messages=500, timeout=0.5):
                err = msg.error()
                if err is not None:
                    sys.stderr.write("consume error: %s\n" % err)
                    continue
                emit({
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "key": hex_or_none(msg.key()),
                    "value": hex_or_none(msg.value()),
                    "headers": [[k, hex_or_none(v)] for k, v in (msg.headers() or [])],
                })
                nxt[msg.partition()] = msg.offset() + 1
            if nxt:
                try:
                    done = consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in sorted(nxt.items())],
                                           asynchronous=False)
                    failed = [tp for tp in done if tp.error is not None]
                    if failed:
                        emit({"event": "commit-failed", "message": "; ".join(
                            "%d: %s" % (tp.partition, tp.error) for tp in failed)})
                    else:
                        emit({"event": "committed", "offsets": [[tp.partition, tp.offset] for tp in done]})
                except KafkaException as e:
                    emit({"event": "commit-failed", "message": str(e)})
            OUT.flush()
    finally:
        consumer.close()
    emit({"event": "closed"})
    return 0


def main(argv):
    if argv == ["version"]:
        emit({"event": "version", "version": "confluent-kafka %s, librdkafka %s" % (
            confluent_kafka.version()[0], confluent_kafka.libversion()[0])})
        return 0
    if len(argv) < 4:
        sys.stderr.write("usage: driver.py create-topic|produce|consume <bootstrap> <topic> <arg>\n")
        return 2
    mode, bootstrap, topic, arg = argv[0], argv[1], argv[2], argv[3]
    if mode == "group-consume":
        settings = {}
        for item in argv[4:]:
            name, _, value = item.partition("=")
            if name not in GROUP_SETTINGS or not value:
                sys.stderr.write("unknown group-consume setting %s\n" % item)
                return 2
            settings[name] = value
        return group_consume(bootstrap, topic, arg, settings)
    if mode == "create-topic":
        return create_topic(bootstrap, topic, int(arg))
    if mode == "produce":
        return produce(bootstrap, topic, arg)
    if mode == "consume":
        expected = {}
        for part in arg.split(","):
            p, n = part.split("=")
            expected[int(p)] = int(n)
        return consume(bootstrap, topic, expected)
    sys.stderr.write("unknown mode %s\n" % mode)
    return 2


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except Exception as e:  # report, then fail
        emit({"event": "error", "message": "%s: %s" % (type(e).__name__, e)})
        code = 1
    OUT.flush()
    sys.stderr.flush()
    os._exit(code)
