import { open, stat, watch } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Prints a workload log; with `follow`, keeps printing what is appended until the process is stopped. */
export async function printLog(file: string, options: { follow: boolean; write: (text: string) => void; signal?: AbortSignal }): Promise<void> {
  let offset = 0;
  let oldIno = (await statIfExists(`${file}.1`))?.ino;
  let retries = 0;
  const drain = async () => {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      const old = await statIfExists(`${file}.1`);
      if (old && old.ino !== oldIno) {
        // Rotated (log-rotation.ts: the log truncated, then a new <log>.1): the unread rest is in <log>.1.
        oldIno = old.ino;
        await printFrom(`${file}.1`, offset, options.write);
        offset = 0;
      } else if (size < offset) {
        if (options.follow && retries < 40) {
          // Truncated a moment before the new <log>.1 is renamed into place, which fires no event here.
          retries++;
          setTimeout(() => void next().catch(() => undefined), 50).unref();
          return;
        }
        offset = 0; // truncated or replaced by someone else
      }
      retries = 0;
      offset = await printRange(handle, offset, size, options.write);
    } finally {
      await handle.close();
    }
  };
  // One drain at a time: the retry timer and the watch events share the offset.
  let queue: Promise<void> = Promise.resolve();
  const next = () => (queue = queue.then(drain));
  await next();
  if (!options.follow) return;
  // The watcher starts now; a drain right after it catches lines written since the first drain,
  // and a slow poll catches whatever a coalesced or dropped watch event would hide.
  const events = watch(file, options.signal ? { signal: options.signal } : {});
  void next().catch(() => undefined);
  const poll = setInterval(() => void next().catch(() => undefined), 500);
  try {
    // Not awaited here: Node drops watch events that arrive while the loop body runs, and the one
    // for the last write would be lost; `next` queues the drains instead.
    for await (const _event of events) void next().catch(() => undefined);
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  } finally {
    clearInterval(poll);
    await queue.catch(() => undefined);
  }
}

async function statIfExists(file: string): Promise<{ ino: number; size: number } | undefined> {
  try {
    const info = await stat(file);
    return { ino: info.ino, size: info.size };
  } catch {
    return undefined;
  }
}

async function printFrom(file: string, offset: number, write: (text: string) => void): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return;
  }
  try {
    await printRange(handle, offset, (await handle.stat()).size, write);
  } finally {
    await handle.close();
  }
}

/** Writes bytes [from, to) of the file; returns where it stopped. */
async function printRange(handle: FileHandle, from: number, to: number, write: (text: string) => void): Promise<number> {
  let at = from;
  while (at < to) {
    const buf = Buffer.alloc(Math.min(to - at, 64 * 1024));
    const { bytesRead } = await handle.read(buf, 0, buf.length, at);
    if (bytesRead === 0) break;
    at += bytesRead;
    write(buf.subarray(0, bytesRead).toString('utf8'));
  }
  return at;
}
