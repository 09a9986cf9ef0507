import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Gives memory back after a burst (docs/workloads.md#limits). V8 grows its heap for a burst of
 * requests and, in a process that then goes quiet, may never run the full collection that would
 * shrink it again: measured with `npm run bench leak`, a supervisor that had served 80,000
 * abandoned calls held ~40 MB of garbage for good, while what it still used was back at its start.
 * So when the process has been (nearly) idle for a whole interval and its heap is more than
 * `slackBytes` larger than after the last such collection, one full collection runs. Busy
 * processes are never interrupted; V8 manages them itself.
 */
export interface HeapSettlerOptions {
  intervalMs?: number;
  /** Heap growth over the last settled size that is worth a collection. */
  slackBytes?: number;
  /** CPU time per interval below which the process counts as idle (fraction of the interval). */
  idleFraction?: number;
  /** Injected for tests. */
  heapBytes?: () => number;
  cpuMicros?: () => number;
  collect?: () => void;
}

export interface HeapSettler {
  /** One check, as the timer runs it; true when it collected. */
  tick(): boolean;
  stop(): void;
}

/** A full collection, without `--expose-gc` on the command line. */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

export function startHeapSettler(options: HeapSettlerOptions = {}): HeapSettler {
  const intervalMs = options.intervalMs ?? 10_000;
  const slack = options.slackBytes ?? 8 * 1024 * 1024;
  const idleMicros = intervalMs * 1000 * (options.idleFraction ?? 0.02);
  const heapBytes = options.heapBytes ?? (() => v8.getHeapStatistics().total_heap_size);
  const cpuMicros = options.cpuMicros ?? (() => {
    const { user, system } = process.cpuUsage();
    return user + system;
  });
  let collect = options.collect;
  let settled = heapBytes();
  let lastCpu = cpuMicros();
  const tick = (): boolean => {
    const cpu = cpuMicros();
    const busy = cpu - lastCpu > idleMicros;
    lastCpu = cpu;
    if (busy || heapBytes() - settled <= slack) return false;
    collect ??= fullCollection();
    collect();
    settled = heapBytes();
    lastCpu = cpuMicros();
    return true;
  };
  const timer = setInterval(tick, intervalMs).unref();
  return { tick, stop: () => clearInterval(timer) };
}
