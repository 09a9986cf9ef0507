import { PassThrough, type Readable } from 'node:stream';

/**
 * Splits the engine's multiplexed attach/logs stream (no TTY): frames of an 8-byte header — stream
 * type (1 stdout, 2 stderr), three zero bytes, a big-endian 32-bit length — then the payload.
 * stdout becomes a plain stream the bridge reads exactly as a process's stdout.
 */
export function demultiplex(source: Readable, onStderr: (chunk: Buffer) => void): PassThrough {
  const stdout = new PassThrough();
  let pending: Buffer = Buffer.alloc(0);
  source.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const length = pending.readUInt32BE(4);
      if (pending.length < 8 + length) break;
      const kind = pending[0];
      const payload = pending.subarray(8, 8 + length);
      pending = pending.subarray(8 + length);
      if (kind === 2) onStderr(payload);
      else if (kind === 1) stdout.write(payload);
      // 0 (stdin echo) and unknown kinds carry nothing for thv.
    }
  });
  source.on('end', () => stdout.end());
  source.on('close', () => stdout.end());
  source.on('error', () => stdout.end());
  return stdout;
}

/** The frames of a whole logs answer, as text per stream. */
export function splitFrames(buffer: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + length).toString('utf8');
    if (buffer[offset] === 2) stderr += payload;
    else stdout += payload;
    offset += 8 + length;
  }
  return { stdout, stderr };
}
