// Writes the Kafka-Java-client fixtures read by interop.test.ts. Run from this directory with the
// kafka-clients jars on the class path:
//   javac -cp 'LIB/*' GenerateFixtures.java && java -cp 'LIB/*:.' GenerateFixtures
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

public class GenerateFixtures {
  static final String VERSION = org.apache.kafka.common.utils.AppInfoParser.getVersion();

  public static void main(String[] args) throws Exception {
    for (CompressionType t : CompressionType.values()) {
      // Uncompressed: few records, since the bytes are kept as they are. Compressed: enough data for
      // several snappy and LZ4 blocks.
      int count = t == CompressionType.NONE ? 30 : 200;
      Compression c = t == CompressionType.NONE ? Compression.NONE : Compression.of(t).build();
      MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1 << 22), RecordBatch.CURRENT_MAGIC_VALUE, c,
          TimestampType.CREATE_TIME, 1000L, 1_700_000_000_000L, 42L, (short) 3, 7, false, 5);
      for (int i = 0; i < count; i++) {
        byte[] key = i % 5 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
        byte[] value = i % 7 == 0 ? null : ("value-" + i + "-" + "x".repeat(i * 13)).getBytes(StandardCharsets.UTF_8);
        Header[] headers = i % 3 == 0
            ? new Header[] {new RecordHeader("h" + i, i % 2 == 0 ? null : new byte[] {1, 2, 3})}
            : new Header[0];
        b.append(1_700_000_000_000L + i * 10 - 50, key, value, headers);
      }
      write("kafka-java-" + VERSION + "-" + t.name + ".bin", b.build());
    }
    write("kafka-java-" + VERSION + "-control.bin", MemoryRecords.withEndTransactionMarker(
        77L, 1_700_000_000_123L, 9, 42L, (short) 3, new EndTransactionMarker(ControlRecordType.COMMIT, 11)));
  }

  static void write(String name, MemoryRecords records) throws Exception {
    ByteBuffer buf = records.buffer();
    byte[] bytes = new byte[buf.remaining()];
    buf.get(bytes);
    Files.write(Paths.get(name), bytes);
    System.out.println(name + " " + bytes.length);
  }
}
