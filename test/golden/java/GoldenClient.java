import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives the Apache Kafka Java client through fixed scenarios against a Strata
 * (or any Kafka-compatible) bootstrap address, for the golden protocol tests.
 *
 * Usage:
 *   GoldenClient produce &lt;bootstrap&gt; &lt;topic&gt; &lt;none|gzip|snappy|lz4|zstd&gt;  (records on stdin)
 *   GoldenClient consume &lt;bootstrap&gt; &lt;topic&gt;
 *   GoldenClient admin   &lt;bootstrap&gt; &lt;topic&gt;
 *
 * Records on stdin, one per line: space separated tokens
 * "key value headerCount [headerKey headerValue]...", each byte string being
 * "~" for null or ":" followed by its base64 (see test/golden/clients/records.ts).
 *
 * Prints one line per outcome on stdout and exits non-zero on failure.
 * All client timeouts are short so a run ends by itself within ~20 s, even
 * when the broker is unreachable.
 */
public final class GoldenClient {
    private static final int REQUEST_TIMEOUT_MS = 10_000;
    private static final int API_TIMEOUT_MS = 15_000;

    private GoldenClient() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (Throwable t) {
            Throwable cause = t;
            while ((cause instanceof ExecutionException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            System.out.println("error: " + cause.getClass().getName() + ": " + cause.getMessage());
            System.out.flush();
            code = 1;
        }
        System.out.flush();
        // Exit explicitly: a client thread left behind must not keep the JVM alive.
        System.exit(code);
    }

    private static int run(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: GoldenClient produce|consume|admin <bootstrap> <topic> [codec]");
            return 2;
        }
        String mode = args[0];
        String bootstrap = args[1];
        String topic = args[2];
        switch (mode) {
            case "produce":
                if (args.length < 4) {
                    System.err.println("produce needs a codec");
                    return 2;
                }
                return produce(bootstrap, topic, args[3]);
            case "consume":
                return consume(bootstrap, topic);
            case "admin":
                return admin(bootstrap, topic);
            default:
                System.err.println("unknown mode " + mode);
                return 2;
        }
    }

    private static Properties common(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        p.put(CommonClientConfigs.METADATA_MAX_AGE_CONFIG, 10_000);
        p.put(CommonClientConfigs.RETRY_BACKOFF_MS_CONFIG, 100);
        p.put(CommonClientConfigs.RETRY_BACKOFF_MAX_MS_CONFIG, 1_000);
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MS_CONFIG, 100);
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, 5_000);
        p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, 10_000);
        return p;
    }

    private static byte[] decodeToken(String tok) {
        if (tok.equals("~")) {
            return null;
        }
        if (!tok.startsWith(":")) {
            throw new IllegalArgumentException("bad record token: " + tok);
        }
        return Base64.getDecoder().decode(tok.substring(1));
    }

    private static List<ProducerRecord<byte[], byte[]>> readRecords(String topic) throws Exception {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] t = line.split(" ", -1);
            if (t.length < 3) {
                throw new IllegalArgumentException("bad record line: " + line);
            }
            byte[] key = decodeToken(t[0]);
            byte[] value = decodeToken(t[1]);
            int n = Integer.parseInt(t[2]);
            if (t.length != 3 + 2 * n) {
                throw new IllegalArgumentException("bad header count in: " + line);
            }
            RecordHeaders headers = new RecordHeaders();
            for (int i = 0; i < n; i++) {
                byte[] hk = decodeToken(t[3 + 2 * i]);
                if (hk == null) {
                    throw new IllegalArgumentException("null header key in: " + line);
                }
                headers.add(new RecordHeader(new String(hk, StandardCharsets.UTF_8), decodeToken(t[4 + 2 * i])));
            }
            // Partition 0, timestamp chosen by the client (null = now).
            out.add(new ProducerRecord<>(topic, 0, null, key, value, headers));
        }
        return out;
    }

    private static int produce(String bootstrap, String topic, String codec) throws Exception {
        List<ProducerRecord<byte[], byte[]>> records = readRecords(topic);
        if (records.isEmpty()) {
            System.err.println("no records on stdin");
            return 2;
        }
        Properties p = common(bootstrap, "strata-golden-java");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // One batch for all records: a long linger holds the batch open while the
        // records are appended (the first send() of a fresh JVM can take ~40 ms),
        // and flush() below sends it at once instead of waiting the linger out.
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1_000);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, REQUEST_TIMEOUT_MS);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
        // enable.idempotence stays at its default (true): InitProducerId, then idempotent batches.

        int failures = 0;
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        try {
            // Fetch the topic's metadata once up front: otherwise every send() below
            // would block up to max.block.ms on its own when the broker is unreachable.
            List<PartitionInfo> partitions = producer.partitionsFor(topic);
            System.out.println("metadata topic=" + topic + " partitions=" + partitions.size());
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                futures.add(producer.send(r));
            }
            producer.flush();
            for (int i = 0; i < futures.size(); i++) {
                try {
                    RecordMetadata md = futures.get(i).get();
                    System.out.println("produced record=" + i + " partition=" + md.partition()
                        + " offset=" + md.offset() + " timestamp=" + md.timestamp());
                } catch (ExecutionException e) {
                    failures++;
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    System.out.println("failed record=" + i + " error=" + c.getClass().getName() + ": " + c.getMessage());
                }
            }
        } finally {
            producer.close(Duration.ofSeconds(2));
        }
        return failures == 0 ? 0 : 1;
    }

    private static String str(byte[] b) {
        return b == null ? "<null>" : new String(b, StandardCharsets.UTF_8);
    }

    private static int consume(String bootstrap, String topic) throws Exception {
        Properties p = common(bootstrap, "strata-golden-java-consumer");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");

        TopicPartition tp = new TopicPartition(topic, 0);
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            // No group: assign() plus seekToBeginning sends Metadata, ListOffsets(EARLIEST), Fetch.
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(REQUEST_TIMEOUT_MS));
            if (recs.isEmpty()) {
                System.out.println("error: no records fetched");
                return 3;
            }
            for (ConsumerRecord<byte[], byte[]> r : recs) {
                System.out.println("consumed partition=" + r.partition() + " offset=" + r.offset()
                    + " key=" + str(r.key()) + " valueBytes=" + (r.value() == null ? -1 : r.value().length)
                    + " headers=" + r.headers().toArray().length);
            }
            // ListOffsets(LATEST).
            Map<TopicPartition, Long> end = consumer.endOffsets(List.of(tp), Duration.ofMillis(REQUEST_TIMEOUT_MS));
            System.out.println("endOffset partition=0 offset=" + end.get(tp));
            return 0;
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        }
    }

    private static int admin(String bootstrap, String topic) throws Exception {
        Properties p = common(bootstrap, "strata-golden-java-admin");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
        p.put(AdminClientConfig.RETRIES_CONFIG, 1);

        Admin admin = Admin.create(p);
        try {
            DescribeClusterResult dc = admin.describeCluster();
            String clusterId = dc.clusterId().get();
            Collection<Node> nodes = dc.nodes().get();
            Node controller = dc.controller().get();
            System.out.println("cluster id=" + clusterId + " nodes=" + nodes.size()
                + " controller=" + (controller == null ? "none" : controller.idString()));

            CreateTopicsResult ct = admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1)));
            try {
                ct.all().get();
                System.out.println("createTopics topic=" + topic + " partitions=" + ct.numPartitions(topic).get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    // The broker answered; for the golden scenario that is a valid outcome.
                    System.out.println("createTopics topic=" + topic + " exists");
                } else {
                    throw e;
                }
            }
            return 0;
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
    }
}
