// Preloaded into the supervisor by bench/leak.mjs (NODE_OPTIONS=--expose-gc --import …): on SIGUSR2
// it writes the process's memory figures — as they are, and after two full garbage collections —
// to LEAK_PROBE_FILE, and with LEAK_PROBE_SNAPSHOT=1 a heap snapshot next to it. Bench only.
import { writeFileSync, renameSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.LEAK_PROBE_FILE;
if (file && /supervisor\.js$/.test(process.argv[1] ?? '')) {
  let n = 0;
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage();
    globalThis.gc?.();
    globalThis.gc?.();
    const after = process.memoryUsage();
    const snapshot = process.env.LEAK_PROBE_SNAPSHOT === '1' ? v8.writeHeapSnapshot(`${file}.${++n}.heapsnapshot`) : undefined;
    writeFileSync(`${file}.tmp`, JSON.stringify({ before, after, snapshot }));
    renameSync(`${file}.tmp`, file);
  });
}
