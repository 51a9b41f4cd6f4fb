// A store writer in its own OS process, for the multi-process conformance tests.
// Usage: node --import tsx test/store/writer-process.ts '<StoreConfig json>' '<WriterJob json>'
// Protocol on stdout, one line each: "ready" once the store is open; then, after "go" arrives on
// stdin, "ack <rev> <key>" for every acknowledged write; finally "done <conflicts>".
import { createInterface } from 'node:readline';
import { openStore, StoreError, type StoreConfig } from '../../shared/store/index.js';
import type { Store } from '../../shared/store/contract.js';
import type { WriterJob } from './writer-job.js';

async function increment(store: Store, key: string): Promise<{ rev: number; conflicts: number }> {
  let conflicts = 0;
  for (;;) {
    const current = await store.get(key);
    if (!current) throw new Error(`counter ${key} is missing`);
    try {
      const kv = await store.update(key, String(Number(current.value) + 1), current.rev);
      return { rev: kv.rev, conflicts };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Conflict') {
        conflicts++;
        continue;
      }
      throw err;
    }
  }
}

async function run(store: Store, job: WriterJob): Promise<number> {
  const ack = (rev: number, key: string) => process.stdout.write(`ack ${rev} ${key}\n`);
  if (job.kind === 'increment') {
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: job.writers }, async () => {
        for (let i = 0; i < job.increments; i++) {
          const r = await increment(store, job.key);
          conflicts += r.conflicts;
          ack(r.rev, job.key);
        }
      }),
    );
    return conflicts;
  }
  for (let i = 0; i < job.count; i++) {
    const key = `${job.prefix}${String(i).padStart(6, '0')}`;
    const kv = await store.create(key, job.value ?? JSON.stringify({ i }));
    ack(kv.rev, key);
    // Yield to the event loop now and then so a parent's signals and pipes stay responsive.
    if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  return 0;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as StoreConfig;
  const job = JSON.parse(process.argv[3]) as WriterJob;
  const store = await openStore(config);
  const input = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => input.on('line', (line) => line.trim() === 'go' && resolve()));
  process.stdout.write('ready\n');
  await go;
  input.close();
  const conflicts = await run(store, job);
  await store.close();
  process.stdout.write(`done ${conflicts}\n`);
}

main().catch((err) => {
  process.stderr.write(`writer failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
