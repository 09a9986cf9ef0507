import { open } from 'node:fs/promises';

/** What `GET /workloads/{name}/logs` returns by default, and the most a client may ask for. */
export const DEFAULT_LOG_TAIL_BYTES = 256 * 1024;
export const MAX_LOG_TAIL_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * The end of a log, at most `maxBytes`, read without loading the rest of the file (a workload's log
 * grows to 10 MB before rotation). A cut never leaves half a line at the top: the text starts after
 * the first newline in the window, unless the window holds no newline at all, in which case it
 * starts at the first whole UTF-8 character. A missing file is an empty log.
 */
export async function readLogTail(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size <= maxBytes) return (await handle.readFile()).toString('utf8');
    // One byte more than asked, to know whether the window already starts at a line boundary.
    const start = size - maxBytes - 1;
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const window = buffer.subarray(0, bytesRead);
    const newline = window.indexOf(NEWLINE);
    if (newline >= 0) return window.subarray(newline + 1).toString('utf8');
    let first = 1;
    while (first < window.length && (window[first]! & 0xc0) === 0x80) first += 1;
    return window.subarray(first).toString('utf8');
  } finally {
    await handle.close();
  }
}
