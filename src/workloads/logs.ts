import { open, stat, watch } from 'node:fs/promises';

/** Prints a workload log; with `follow`, keeps printing what is appended until the process is stopped. */
export async function printLog(file: string, options: { follow: boolean; write: (text: string) => void; signal?: AbortSignal }): Promise<void> {
  let offset = 0;
  const drain = async () => {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size < offset) offset = 0; // truncated or replaced
      while (offset < size) {
        const length = Math.min(size - offset, 64 * 1024);
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        options.write(buf.subarray(0, bytesRead).toString('utf8'));
      }
    } finally {
      await handle.close();
    }
  };
  await drain();
  if (!options.follow) return;
  await stat(file).catch(() => undefined);
  try {
    for await (const _event of watch(file, options.signal ? { signal: options.signal } : {})) await drain();
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}
