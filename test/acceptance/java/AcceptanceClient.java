import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.MessageFormatter;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * Drives the Apache Kafka Java client (and, through the two nested classes,
 * Kafka's ConsoleProducer and ConsoleConsumer) for Strata's acceptance tests.
 * See test/acceptance/clients/index.ts.
 *
 * Usage:
 *   AcceptanceClient create-topic &lt;bootstrap&gt; &lt;topic&gt; &lt;partitions&gt;
 *   AcceptanceClient produce      &lt;bootstrap&gt; &lt;topic&gt; &lt;none|gzip|snappy|lz4|zstd&gt;   (records on stdin)
 *   AcceptanceClient consume      &lt;bootstrap&gt; &lt;topic&gt; &lt;partition&gt;=&lt;count&gt;[,...]
 *   AcceptanceClient group-consume &lt;bootstrap&gt; &lt;topic&gt; &lt;group&gt; [session.timeout.ms=N]
 *                                 [heartbeat.interval.ms=N] [client.id=S]
 *                                 (a group member until stdin closes; its lines are described
 *                                 in test/acceptance/clients/driver-io.ts)
 *   AcceptanceClient version      (no broker: prints the client library's version)
 *
 * Records on stdin, one per line: space separated tokens
 * "key value headerCount [headerName headerValue]...", each byte string being
 * "~" for null or ":" followed by its base64.
 *
 * Output: one JSON object per line on stdout, bytes as lowercase hex:
 *   produce: {"index":i,"partition":p,"offset":o} or {"index":i,"error":"..."}
 *   consume: {"partition":p,"offset":o,"key":hex|null,"value":hex|null,"headers":[[name,hex|null],...]}
 *   always last on success: {"event":"done",...}
 * Diagnostics go to stderr. Exit code 0 only if everything succeeded.
 *
 * Nested classes used with Kafka's console tools:
 *   AcceptanceClient$AckReporter   producer interceptor (interceptor.classes) that prints
 *                                  the produce line above for every record ConsoleProducer sends;
 *                                  index = position of the record in its input.
 *   AcceptanceClient$HexFormatter  ConsoleConsumer --formatter printing the consume line above.
 */
public final class AcceptanceClient {
    private AcceptanceClient() {}

    /** Buffered stdout shared by the driver and the nested classes; flushed explicitly. */
    static final PrintStream OUT = new PrintStream(
        new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false, StandardCharsets.UTF_8);

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (Throwable t) {
            Throwable cause = t;
            while ((cause instanceof ExecutionException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            OUT.println("{\"event\":\"error\",\"message\":" + jsonString(cause.getClass().getName() + ": " + cause.getMessage()) + "}");
            cause.printStackTrace(System.err);
            code = 1;
        }
        OUT.flush();
        System.err.flush();
        // Exit explicitly: a client thread left behind must not keep the JVM alive.
        System.exit(code);
    }

    private static int run(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("version")) {
            OUT.println("{\"event\":\"version\",\"version\":" + jsonString("kafka-clients " + AppInfoParser.getVersion()) + "}");
            return 0;
        }
        if (args.length < 4) {
            System.err.println("usage: AcceptanceClient create-topic|produce|consume <bootstrap> <topic> <partitions|codec|p=count,...>\n       AcceptanceClient group-consume <bootstrap> <topic> <group> [name=value...]");
            return 2;
        }
        String bootstrap = args[1];
        String topic = args[2];
        switch (args[0]) {
            case "create-topic":
                return createTopic(bootstrap, topic, Integer.parseInt(args[3]));
            case "produce":
                return produce(bootstrap, topic, args[3]);
            case "consume":
                return consume(bootstrap, topic, parseCounts(args[3]));
            case "group-consume":
                return groupConsume(bootstrap, topic, args[3], parseGroupSettings(args));
            default:
                System.err.println("unknown mode " + args[0]);
                return 2;
        }
    }

    // ------------------------------------------------------------------ admin

    private static int createTopic(String bootstrap, String topic, int partitions) throws Exception {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, "strata-acceptance-java-admin");
        try (Admin admin = Admin.create(p)) {
            CreateTopicsResult ct = admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)));
            ct.all().get();
            OUT.println("{\"event\":\"created\",\"topic\":" + jsonString(topic) + ",\"partitions\":" + ct.numPartitions(topic).get() + "}");
            return 0;
        }
    }

    // --------------------------------------------------------------- produce

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
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] t = line.split(" ", -1);
            if (t.length < 3) {
                throw new IllegalArgumentException("bad record line " + (out.size() + 1));
            }
            int n = Integer.parseInt(t[2]);
            if (t.length != 3 + 2 * n) {
                throw new IllegalArgumentException("bad header count on record line " + (out.size() + 1));
            }
            RecordHeaders headers = new RecordHeaders();
            for (int i = 0; i < n; i++) {
                byte[] name = decodeToken(t[3 + 2 * i]);
                if (name == null) {
                    throw new IllegalArgumentException("null header name on record line " + (out.size() + 1));
                }
                headers.add(new RecordHeader(new String(name, StandardCharsets.UTF_8), decodeToken(t[4 + 2 * i])));
            }
            // No partition: the producer's default partitioner picks it (murmur2 of the key).
            out.add(new ProducerRecord<>(topic, null, null, decodeToken(t[0]), decodeToken(t[1]), headers));
        }
        return out;
    }

    /**
     * KafkaProducer with its defaults (acks=all, enable.idempotence=true,
     * linger.ms=5, batch.size=16384 in Kafka 4.x); only the codec and the
     * client id are set.
     */
    private static int produce(String bootstrap, String topic, String codec) throws Exception {
        List<ProducerRecord<byte[], byte[]>> records = readRecords(topic);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "strata-acceptance-java");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);

        int n = records.size();
        int[] partitions = new int[n];
        long[] offsets = new long[n];
        String[] errors = new String[n];
        boolean[] done = new boolean[n];
        try (KafkaProducer<byte[], byte[]> producer =
                 new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                final int index = i;
                producer.send(records.get(i), (md, e) -> {
                    synchronized (done) {
                        if (e != null) {
                            errors[index] = e.getClass().getName() + ": " + e.getMessage();
                        } else {
                            partitions[index] = md.partition();
                            offsets[index] = md.offset();
                        }
                        done[index] = true;
                    }
                });
            }
            producer.flush();
        }
        int failed = 0;
        synchronized (done) {
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    failed++;
                    OUT.println("{\"index\":" + i + ",\"error\":\"no acknowledgement\"}");
                } else if (errors[i] != null) {
                    failed++;
                    OUT.println("{\"index\":" + i + ",\"error\":" + jsonString(errors[i]) + "}");
                } else {
                    OUT.println("{\"index\":" + i + ",\"partition\":" + partitions[i] + ",\"offset\":" + offsets[i] + "}");
                }
            }
        }
        OUT.println("{\"event\":\"done\",\"records\":" + n + ",\"failed\":" + failed + "}");
        return failed == 0 ? 0 : 1;
    }

    // --------------------------------------------------------------- consume

    private static Map<Integer, Integer> parseCounts(String arg) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (String part : arg.split(",")) {
            String[] kv = part.split("=");
            if (kv.length != 2) {
                throw new IllegalArgumentException("expected partition=count, got " + part);
            }
            counts.put(Integer.parseInt(kv[0]), Integer.parseInt(kv[1]));
        }
        return counts;
    }

    /**
     * KafkaConsumer without a group: assign() every partition, seekToBeginning,
     * poll until each partition has returned its expected number of records.
     */
    private static int consume(String bootstrap, String topic, Map<Integer, Integer> expected) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "strata-acceptance-java-consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");

        List<TopicPartition> tps = new ArrayList<>();
        Map<Integer, Integer> seen = new HashMap<>();
        for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
            tps.add(new TopicPartition(topic, e.getKey()));
            seen.put(e.getKey(), 0);
        }
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        int total = 0;
        try {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            while (!reached(seen, expected)) {
                ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : recs) {
                    int got = seen.get(r.partition());
                    if (got >= expected.get(r.partition())) {
                        continue;
                    }
                    seen.put(r.partition(), got + 1);
                    total++;
                    OUT.println(recordJson(r));
                }
                OUT.flush();
            }
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        }
        OUT.println("{\"event\":\"done\",\"records\":" + total + "}");
        return 0;
    }

    // --------------------------------------------------------- group-consume

    private static Map<String, String> parseGroupSettings(String[] args) {
        Map<String, String> settings = new HashMap<>();
        for (int i = 4; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String name = eq < 0 ? args[i] : args[i].substring(0, eq);
            if (eq < 0 || eq == args[i].length() - 1
                || !(name.equals("session.timeout.ms") || name.equals("heartbeat.interval.ms") || name.equals("client.id"))) {
                throw new IllegalArgumentException("unknown group-consume setting " + args[i]);
            }
            settings.put(name, args[i].substring(eq + 1));
        }
        return settings;
    }

    private static String partitionsJson(Collection<TopicPartition> tps, String topic) {
        TreeSet<Integer> ps = new TreeSet<>();
        for (TopicPartition tp : tps) {
            if (tp.topic().equals(topic)) {
                ps.add(tp.partition());
            }
        }
        StringBuilder sb = new StringBuilder("[");
        for (Integer p : ps) {
            sb.append(sb.length() > 1 ? "," : "").append(p);
        }
        return sb.append(']').toString();
    }

    /**
     * A group member subscribed to one topic until stdin closes. The client's
     * defaults otherwise: the classic protocol and partition.assignment.strategy
     * [RangeAssignor, CooperativeStickyAssignor], which offers "range" and
     * "cooperative-sticky" and rebalances eagerly (the protocols in common).
     * Auto-commit is off: each non-empty poll is followed by commitSync of the
     * offset after each partition's last record. Stopping: a thread waits for
     * the end of stdin and sets a flag the poll loop (500 ms polls) checks;
     * close() then leaves the group.
     */
    private static int groupConsume(String bootstrap, String topic, String group, Map<String, String> settings) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.getOrDefault("client.id", "strata-acceptance-java-member"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        if (settings.containsKey("session.timeout.ms")) {
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.parseInt(settings.get("session.timeout.ms")));
        }
        if (settings.containsKey("heartbeat.interval.ms")) {
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.parseInt(settings.get("heartbeat.interval.ms")));
        }

        AtomicBoolean stop = new AtomicBoolean();
        Thread stdinWatcher = new Thread(() -> {
            try {
                while (System.in.read(new byte[4096]) >= 0) {
                    // discard: only the end of stdin matters
                }
            } catch (java.io.IOException e) {
                // a broken stdin means the parent is gone: stop as well
            }
            stop.set(true);
        }, "stdin-watcher");
        stdinWatcher.setDaemon(true);
        stdinWatcher.start();

        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            // The listener runs inside poll(), on this thread, so OUT needs no lock.
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    OUT.println("{\"event\":\"revoked\",\"partitions\":" + partitionsJson(partitions, topic) + "}");
                    OUT.flush();
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    ConsumerGroupMetadata g = consumer.groupMetadata();
                    OUT.println("{\"event\":\"assigned\",\"partitions\":" + partitionsJson(consumer.assignment(), topic)
                        + ",\"memberId\":" + jsonString(g.memberId()) + ",\"generation\":" + g.generationId()
                        + ",\"protocol\":null}");
                    OUT.flush();
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    OUT.println("{\"event\":\"lost\",\"partitions\":" + partitionsJson(partitions, topic) + "}");
                    OUT.flush();
                }
            });
            while (!stop.get()) {
                ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(500));
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : recs) {
                    OUT.println(recordJson(r));
                    next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                if (!next.isEmpty()) {
                    try {
                        consumer.commitSync(next);
                        TreeMap<Integer, Long> sorted = new TreeMap<>();
                        next.forEach((tp, om) -> sorted.put(tp.partition(), om.offset()));
                        StringBuilder sb = new StringBuilder("{\"event\":\"committed\",\"offsets\":[");
                        sorted.forEach((part, off) -> sb.append(sb.charAt(sb.length() - 1) == '[' ? "" : ",")
                            .append('[').append(part).append(',').append(off).append(']'));
                        OUT.println(sb.append("]}"));
                    } catch (KafkaException e) {
                        // CommitFailedException, RebalanceInProgressException: the group moved on.
                        OUT.println("{\"event\":\"commit-failed\",\"message\":"
                            + jsonString(e.getClass().getName() + ": " + e.getMessage()) + "}");
                    }
                }
                OUT.flush();
            }
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
        }
        OUT.println("{\"event\":\"closed\"}");
        return 0;
    }

    private static boolean reached(Map<Integer, Integer> seen, Map<Integer, Integer> expected) {
        for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
            if (seen.get(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- output

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    static String hexOrNull(byte[] b) {
        if (b == null) {
            return "null";
        }
        char[] out = new char[b.length * 2 + 2];
        out[0] = '"';
        for (int i = 0; i < b.length; i++) {
            out[1 + 2 * i] = HEX[(b[i] >> 4) & 0xf];
            out[2 + 2 * i] = HEX[b[i] & 0xf];
        }
        out[out.length - 1] = '"';
        return new String(out);
    }

    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    static String recordJson(ConsumerRecord<byte[], byte[]> r) {
        StringBuilder sb = new StringBuilder(64 + 2 * (r.serializedValueSize() + Math.max(0, r.serializedKeySize())));
        sb.append("{\"partition\":").append(r.partition())
            .append(",\"offset\":").append(r.offset())
            .append(",\"key\":").append(hexOrNull(r.key()))
            .append(",\"value\":").append(hexOrNull(r.value()))
            .append(",\"headers\":[");
        boolean first = true;
        for (Header h : r.headers()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('[').append(jsonString(h.key())).append(',').append(hexOrNull(h.value())).append(']');
        }
        return sb.append("]}").toString();
    }

    // ------------------------------------------------- console tool plug-ins

    /**
     * Producer interceptor for ConsoleProducer: reports partition and offset
     * of every record from the broker's answer. Records are told apart by the
     * identity of their Headers object, which the producer hands back to
     * onAcknowledgement; the index is the order in which ConsoleProducer
     * sent them, i.e. their line number in its input, from 0.
     */
    public static final class AckReporter implements ProducerInterceptor<byte[], byte[]> {
        private final Map<Headers, Integer> pending = new IdentityHashMap<>();
        private int next;
        private int acked;
        private int failed;

        public AckReporter() {}

        @Override
        public void configure(Map<String, ?> configs) {}

        @Override
        public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
            synchronized (this) {
                pending.put(record.headers(), next++);
            }
            return record;
        }

        @Override
        public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
            // Kafka 4.x calls the three-argument form; this one cannot identify the record.
            synchronized (this) {
                failed++;
            }
            System.err.println("AckReporter: acknowledgement without headers; cannot identify the record");
        }

        @Override
        public void onAcknowledgement(RecordMetadata metadata, Exception exception, Headers headers) {
            synchronized (this) {
                Integer index = headers == null ? null : pending.remove(headers);
                if (index == null) {
                    failed++;
                    System.err.println("AckReporter: acknowledgement for an unknown record");
                    return;
                }
                if (exception != null || metadata == null) {
                    failed++;
                    String msg = exception == null ? "no metadata" : exception.getClass().getName() + ": " + exception.getMessage();
                    OUT.println("{\"index\":" + index + ",\"error\":" + jsonString(msg) + "}");
                } else {
                    acked++;
                    OUT.println("{\"index\":" + index + ",\"partition\":" + metadata.partition() + ",\"offset\":" + metadata.offset() + "}");
                }
            }
        }

        @Override
        public void close() {
            synchronized (this) {
                for (Integer index : pending.values()) {
                    OUT.println("{\"index\":" + index + ",\"error\":\"no acknowledgement\"}");
                }
                OUT.println("{\"event\":\"done\",\"records\":" + next + ",\"acked\":" + acked + ",\"failed\":" + (failed + pending.size()) + "}");
                pending.clear();
            }
            OUT.flush();
        }
    }

    /** ConsoleConsumer formatter: one JSON line per record, bytes in hex. */
    public static final class HexFormatter implements MessageFormatter {
        public HexFormatter() {}

        @Override
        public void writeTo(ConsumerRecord<byte[], byte[]> record, PrintStream output) {
            output.println(recordJson(record));
        }
    }
}
