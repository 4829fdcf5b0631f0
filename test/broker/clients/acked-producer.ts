// Produces numbered records to one partition with acks=-1, printing one JSON line per acknowledged
// batch: {"baseOffset":N,"first":I,"count":C}. Stops at --records, or at the first failure (the
// test kills the broker under it). Values are "rec-<index>" so a reader can check each one.
// Usage: node --import tsx acked-producer.ts <bootstrap> <topic> <records> <batch>
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, recordsArg, batchArg] = process.argv.slice(2);
const total = Number(recordsArg);
const batch = Number(batchArg);

const kafka = new Kafka({
  clientId: 'strata-acked-producer',
  brokers: [bootstrap!],
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
  connectionTimeout: 3000,
  requestTimeout: 10000,
});
const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 0 } });

async function main(): Promise<number> {
  // Create the topic first: with no retries, a send racing auto-creation would fail.
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: topic!, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  await producer.connect();
  for (let first = 0; first < total; first += batch) {
    const count = Math.min(batch, total - first);
    const messages = Array.from({ length: count }, (_, i) => ({ key: `k${first + i}`, value: `rec-${first + i}`, partition: 0 }));
    const [meta] = await producer.send({ topic: topic!, acks: -1, messages });
    process.stdout.write(`${JSON.stringify({ baseOffset: Number(meta!.baseOffset), first, count })}\n`);
  }
  await producer.disconnect();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`producer stopped: ${(e as Error).message}\n`);
    process.exit(3);
  },
);
