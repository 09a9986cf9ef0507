import { chmod, copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import type { Logger } from '../core/log.js';

/** A workload log that passes this size is moved to `<log>.1` (one old file is kept). */
export const MAX_LOG_BYTES = 10 * 1024 * 1024;

/**
 * Rotates by copy-then-truncate rather than rename: the supervisor's stdout/stderr and the server's
 * inherited stderr are descriptors opened in append mode that nobody can reopen, and after a
 * truncation their next write lands at the new start of the same file. `thv logs --follow` keeps
 * watching the same file, notices the new `<log>.1` (a new inode) and reads what it had not read yet
 * from there. Lines written between the copy and the truncation are lost (a moment, once per
 * rotation).
 */
export async function rotateLogIfLarge(file: string, maxBytes: number = MAX_LOG_BYTES): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (size <= maxBytes) return false;
  const next = `${file}.1.tmp`;
  await copyFile(file, next);
  await chmod(next, 0o600);
  await appendWrittenSince(file, next, size);
  await truncate(file, 0);
  // Renamed into place whole and after the truncation: a follower that sees a new <log>.1 has all of
  // it, and the log it reads next is already the new one.
  await rename(next, `${file}.1`);
  return true;
}

/** What was appended while the copy ran goes to the old file too, so only a tiny window is lost. */
async function appendWrittenSince(file: string, old: string, copied: number): Promise<void> {
  const source = await open(file, 'r');
  try {
    const { size } = await source.stat();
    if (size <= copied) return;
    const buf = Buffer.alloc(size - copied);
    const { bytesRead } = await source.read(buf, 0, buf.length, copied);
    const target = await open(old, 'a');
    try {
      await target.write(buf.subarray(0, bytesRead));
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Checks the log's size every `everyMs` while a supervisor runs; returns the function that stops it. */
export function startLogRotation(file: string, options: { maxBytes?: number; everyMs?: number; log: Logger }): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    rotateLogIfLarge(file, options.maxBytes)
      .catch((err: Error) => options.log.warn({ err: err.message }, 'could not rotate the workload log'))
      .finally(() => (busy = false));
  }, options.everyMs ?? 1_000);
  timer.unref();
  return () => clearInterval(timer);
}
