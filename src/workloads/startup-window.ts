import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { envDuration, type Env } from '../core/env.js';

export const DEFAULT_STARTUP_GRACE_MS = 2_000;

/**
 * How long a stdio server must stay up on its first start before the workload is ready; 0 disables
 * the wait. An invalid value is passed to `onInvalid` and the default is used.
 */
export function startupGraceMs(env: Env, onInvalid?: (name: string, value: string) => void): number {
  return envDuration(env, 'TOOLHIVE_STARTUP_GRACE', DEFAULT_STARTUP_GRACE_MS, { zeroAllowed: true, ...(onInvalid ? { onInvalid } : {}) });
}

/** How much of the end of the server's output is read for the reason it failed. */
const TAIL_BYTES = 4096;

/**
 * Marks the end of `file` and returns a reader of what is appended to it from now on, when it is
 * where `fd` (the supervisor's stderr, which the server inherits) writes: a detached supervisor's
 * stderr is the workload log, opened write-only, so it is read back by name. Otherwise (a terminal
 * in the foreground) nothing is read, and the user saw the output anyway.
 */
export function markOutput(file: string, fd = 2): () => string {
  let start: number;
  try {
    const written = fstatSync(fd);
    const named = statSync(file);
    if (!written.isFile() || written.ino !== named.ino || written.dev !== named.dev) return () => '';
    start = named.size;
  } catch {
    return () => '';
  }
  return () => {
    let handle: number | undefined;
    try {
      handle = openSync(file, 'r');
      const size = fstatSync(handle).size;
      const from = Math.max(start, size - TAIL_BYTES);
      if (size <= from) return '';
      const buf = Buffer.alloc(size - from);
      const read = readSync(handle, buf, 0, buf.length, from);
      return buf.subarray(0, read).toString('utf8');
    } catch {
      return '';
    } finally {
      if (handle !== undefined) closeSync(handle);
    }
  };
}

/** The supervisor's own log lines (`ISO-time level: message`) share the file with the server's stderr. */
const SUPERVISOR_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (?:trace|debug|info|warn|error|fatal|log): /;
/** Terminal colour codes and other control characters (a tab or newline is kept until lines are split). */
const CONTROL = /\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * The server's last lines (up to 3) for a status context: control characters removed, any of the
 * given values (the server's environment) replaced by `***`, and cut to `maxChars` from the end,
 * where the reason for a failure usually is.
 */
export function lastOutputLines(text: string, hide: string[], maxChars = 300): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.replace(CONTROL, '').trim())
    .filter((line) => line && !SUPERVISOR_LINE.test(line));
  let out = lines.slice(-3).join(' | ');
  // Short values ("1", "on") would mangle the text and are not credentials.
  for (const value of hide) if (value.length >= 4) out = out.split(value).join('***');
  return out.length > maxChars ? `…${out.slice(out.length - maxChars + 1)}` : out;
}
