// Prints the key and value bytes Kafka 4.1.1's own classes write for a handful of
// __consumer_offsets records, as hex, one `name key value` line each (value "-" for a tombstone).
// records.test.ts holds the output and checks Strata's codecs produce the same bytes.
//
// Run with the cached Kafka jars (nothing is written to disk):
//   java -cp "$HOME/.cache/strata-peers/kafka-ref-4.1.1/lib/*" \
//     broker/coordinator/records/testdata/GenerateRecordFixtures.java
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.group.generated.*;

public class GenerateRecordFixtures {
    static final Uuid TOPIC_A = Uuid.fromString("AAECAwQFBgcICQoLDA0ODw");
    static final Uuid TOPIC_B = Uuid.fromString("8PHy8_T19vf4-fr7_P3-_w");

    static void emit(String name, ApiMessage key, ApiMessage value, int valueVersion) {
        HexFormat hex = HexFormat.of();
        String k = hex.formatHex(MessageUtil.toCoordinatorTypePrefixedBytes(key));
        String v = value == null ? "-" : hex.formatHex(MessageUtil.toVersionPrefixedBytes((short) valueVersion, value));
        System.out.println(name + " " + k + " " + v);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) {
        OffsetCommitKey ock = new OffsetCommitKey().setGroup("g1").setTopic("orders").setPartition(3);
        emit("offset-commit-v4", ock, new OffsetCommitValue().setOffset(42L).setLeaderEpoch(7).setMetadata("meta")
            .setCommitTimestamp(1700000000000L), 4);
        emit("offset-commit-v4-topic-id", ock, new OffsetCommitValue().setOffset(42L).setLeaderEpoch(-1).setMetadata("")
            .setCommitTimestamp(1700000000000L).setTopicId(TOPIC_A), 4);
        emit("offset-commit-v3", ock, new OffsetCommitValue().setOffset(42L).setLeaderEpoch(7).setMetadata("meta")
            .setCommitTimestamp(1700000000000L), 3);
        emit("offset-commit-v1", ock, new OffsetCommitValue().setOffset(42L).setMetadata("meta")
            .setCommitTimestamp(1700000000000L).setExpireTimestamp(1700000060000L), 1);
        emit("offset-commit-tombstone", ock, null, 0);
        emit("legacy-offset-commit", new LegacyOffsetCommitKey().setGroup("g1").setTopic("orders").setPartition(3),
            new LegacyOffsetCommitValue().setOffset(42L).setMetadata("meta").setCommitTimestamp(1700000000000L), 0);

        GroupMetadataKey gk = new GroupMetadataKey().setGroup("g1");
        GroupMetadataValue gv = new GroupMetadataValue().setProtocolType("consumer").setGeneration(5).setProtocol("range")
            .setLeader("m-1").setCurrentStateTimestamp(1700000000000L).setMembers(List.of(
                new GroupMetadataValue.MemberMetadata().setMemberId("m-1").setGroupInstanceId("i-1").setClientId("c1")
                    .setClientHost("/127.0.0.1").setRebalanceTimeout(300000).setSessionTimeout(45000)
                    .setSubscription(new byte[] {0, 1, 2}).setAssignment(new byte[] {9}),
                new GroupMetadataValue.MemberMetadata().setMemberId("m-2").setGroupInstanceId(null).setClientId("c2")
                    .setClientHost("/10.0.0.2").setRebalanceTimeout(60000).setSessionTimeout(10000)
                    .setSubscription(new byte[0]).setAssignment(new byte[0])));
        emit("group-metadata-v3", gk, gv, 3);
        emit("group-metadata-v4", gk, gv, 4);
        emit("group-metadata-empty-v3", gk, new GroupMetadataValue().setProtocolType("").setGeneration(0).setProtocol(null)
            .setLeader(null).setCurrentStateTimestamp(1700000000000L).setMembers(List.of()), 3);
        emit("group-metadata-tombstone", gk, null, 0);

        emit("consumer-group-metadata", new ConsumerGroupMetadataKey().setGroupId("cg"),
            new ConsumerGroupMetadataValue().setEpoch(12).setMetadataHash(0x0102030405060708L), 0);
        emit("consumer-group-metadata-no-hash", new ConsumerGroupMetadataKey().setGroupId("cg"),
            new ConsumerGroupMetadataValue().setEpoch(12), 0);
        emit("consumer-group-partition-metadata", new ConsumerGroupPartitionMetadataKey().setGroupId("cg"),
            new ConsumerGroupPartitionMetadataValue().setTopics(List.of(
                new ConsumerGroupPartitionMetadataValue.TopicMetadata().setTopicId(TOPIC_A).setTopicName("orders")
                    .setNumPartitions(3).setPartitionMetadata(List.of(
                        new ConsumerGroupPartitionMetadataValue.PartitionMetadata().setPartition(0).setRacks(List.of("r1", "r2")))))), 0);
        emit("consumer-group-member-metadata", new ConsumerGroupMemberMetadataKey().setGroupId("cg").setMemberId("mem"),
            new ConsumerGroupMemberMetadataValue().setInstanceId(null).setRackId("rack").setClientId("cid")
                .setClientHost("/1.2.3.4").setSubscribedTopicNames(List.of("orders", "payments")).setSubscribedTopicRegex(null)
                .setRebalanceTimeoutMs(300000).setServerAssignor("uniform")
                // As Kafka 4.1 writes a member of the consumer protocol: an explicit null, which is
                // written as tag 0 holding a single 0 byte (the struct's own default is an empty struct).
                .setClassicMemberMetadata(null), 0);
        emit("consumer-group-member-metadata-classic", new ConsumerGroupMemberMetadataKey().setGroupId("cg").setMemberId("mem"),
            new ConsumerGroupMemberMetadataValue().setInstanceId("inst").setRackId(null).setClientId("cid")
                .setClientHost("/1.2.3.4").setSubscribedTopicNames(List.of()).setSubscribedTopicRegex("ord.*")
                .setRebalanceTimeoutMs(-1).setServerAssignor(null).setClassicMemberMetadata(
                    new ConsumerGroupMemberMetadataValue.ClassicMemberMetadata().setSessionTimeoutMs(45000).setSupportedProtocols(List.of(
                        new ConsumerGroupMemberMetadataValue.ClassicProtocol().setName("range").setMetadata(new byte[] {1, 2})))), 0);
        emit("consumer-group-target-assignment-metadata", new ConsumerGroupTargetAssignmentMetadataKey().setGroupId("cg"),
            new ConsumerGroupTargetAssignmentMetadataValue().setAssignmentEpoch(12), 0);
        emit("consumer-group-target-assignment-member", new ConsumerGroupTargetAssignmentMemberKey().setGroupId("cg").setMemberId("mem"),
            new ConsumerGroupTargetAssignmentMemberValue().setTopicPartitions(List.of(
                new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(TOPIC_A).setPartitions(List.of(0, 2)),
                new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(TOPIC_B).setPartitions(List.of(1)))), 0);
        emit("consumer-group-current-member-assignment", new ConsumerGroupCurrentMemberAssignmentKey().setGroupId("cg").setMemberId("mem"),
            new ConsumerGroupCurrentMemberAssignmentValue().setMemberEpoch(12).setPreviousMemberEpoch(11).setState((byte) 1)
                .setAssignedPartitions(List.of(
                    new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions().setTopicId(TOPIC_A).setPartitions(List.of(0))))
                .setPartitionsPendingRevocation(List.of(
                    new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions().setTopicId(TOPIC_B).setPartitions(List.of(1, 2)))), 0);
        emit("consumer-group-regular-expression", new ConsumerGroupRegularExpressionKey().setGroupId("cg").setRegularExpression("ord.*"),
            new ConsumerGroupRegularExpressionValue().setTopics(List.of("orders", "ordinals")).setVersion(17L).setTimestamp(1700000000000L), 0);
        emit("consumer-group-member-metadata-tombstone", new ConsumerGroupMemberMetadataKey().setGroupId("cg").setMemberId("mem"), null, 0);
    }
}
