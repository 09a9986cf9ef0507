import { systemClock, type Clock } from '../../src/core/clock.js';

/** A clock whose `now` only moves when the test says so; sleeps stay real (short OAuth timeouts). */
export function manualClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: systemClock.sleep,
    advance(ms: number) {
      now += ms;
    },
  };
}
