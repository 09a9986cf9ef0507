import { describe, expect, it } from 'vitest';
import { startHeapSettler } from '../../src/core/heap-settle.js';

// After a burst the supervisor gives its grown heap back once it is idle (docs/workloads.md#limits):
// a full collection runs only when the process was idle for a whole interval and the heap grew by
// more than the slack since the last one; a busy process is never interrupted.

function fake() {
  const state = { heap: 20, cpu: 0, collections: 0 };
  const settler = startHeapSettler({
    intervalMs: 1000,
    slackBytes: 8,
    heapBytes: () => state.heap,
    cpuMicros: () => state.cpu,
    collect: () => {
      state.collections++;
      state.heap = 22;
    },
  });
  return { state, settler };
}

describe('heap settler', () => {
  it('collects once the process is idle and its heap grew past the slack, then not again', () => {
    const { state, settler } = fake();
    state.heap = 60;
    state.cpu += 500_000; // busy: half of the interval on the CPU
    expect(settler.tick()).toBe(false);
    state.cpu += 1_000; // idle
    expect(settler.tick()).toBe(true);
    expect(state.collections).toBe(1);
    expect(settler.tick()).toBe(false);
    state.heap = 29; // within the slack of the settled size
    expect(settler.tick()).toBe(false);
    expect(state.collections).toBe(1);
    settler.stop();
  });

  it('leaves a heap within the slack alone', () => {
    const { state, settler } = fake();
    state.heap = 27;
    expect(settler.tick()).toBe(false);
    expect(state.collections).toBe(0);
    settler.stop();
  });
});
