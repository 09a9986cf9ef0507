import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { ThvError } from '../core/errors.js';

/** A workload log that passes this size is moved to `<log>.1` (one old file is kept). */
export const MAX_LOG_BYTES = 10 * 1024 * 1024;

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
const COPY_CHUNK = 1024 * 1024;

/**
 * Opens a workload log for appending, never through a symlink (docs/workloads.md#logs): a link
 * planted at `<name>.log` is refused (ELOOP) instead of having thv append to its target.
 */
export function openLogForAppend(file: string): number {
  try {
    return openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
  } catch (err) {
    throw symlinkRefused(file, err);
  }
}

function symlinkRefused(file: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ELOOP') return err;
  return new ThvError('workload_failed', `the log file ${file} is a symbolic link; thv never writes through one`, {
    cause: err,
    hint: `Remove ${file} (a link thv did not make) and try again.`,
  });
}

/**
 * Rotates by copy-then-truncate rather than rename: the supervisor's stdout/stderr are descriptors
 * opened in append mode that nobody can reopen, and after a truncation their next write lands at the
 * new start of the same file. `thv logs --follow` keeps watching the same file, notices the new
 * `<log>.1` (a new inode) and reads what it had not read yet from there. Used at each start, before
 * the supervisor opens the log; while a supervisor runs, its `CappedLogWriter` rotates as it writes.
 * Nothing here follows a symlink: the log is opened O_NOFOLLOW, the copy is a new file (O_EXCL).
 */
export async function rotateLogIfLarge(file: string, maxBytes: number = MAX_LOG_BYTES): Promise<boolean> {
  let source;
  try {
    source = await open(file, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw symlinkRefused(file, err);
  }
  try {
    if ((await source.stat()).size <= maxBytes) return false;
    const next = `${file}.1.tmp`;
    await rm(next, { force: true });
    const target = await open(next, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      // To the end as it is now, including what was appended while copying.
      const buf = Buffer.alloc(COPY_CHUNK);
      for (let at = 0; ; ) {
        const { bytesRead } = await source.read(buf, 0, buf.length, at);
        if (bytesRead === 0) break;
        await target.write(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await target.close();
    }
    const writer = await open(file, O_WRONLY | O_NOFOLLOW);
    try {
      await writer.truncate(0);
    } finally {
      await writer.close();
    }
    // Renamed into place whole and after the truncation: a follower that sees a new <log>.1 has all of
    // it, and the log it reads next is already the new one.
    await rename(next, `${file}.1`);
    return true;
  } finally {
    await source.close();
  }
}

/**
 * The one writer of a running supervisor's log (its fd 1 and 2): the supervisor's own lines and the
 * server's stderr, which the runtime pipes through the supervisor rather than handing the server the
 * log file. Rotation happens here, synchronously, before the write that would pass the cap, so the log
 * never exceeds `maxBytes` plus one write, however fast a server floods stderr (a server blocks on its
 * full pipe instead), and no line is lost between copy and truncation. A rotation that fails still
 * truncates: the cap wins over keeping the old lines.
 */
export class CappedLogWriter {
  private size: number;

  constructor(
    private readonly file: string,
    private readonly fd: number,
    private readonly maxBytes: number = MAX_LOG_BYTES,
  ) {
    this.size = fstatSync(fd).size;
  }

  write(chunk: Uint8Array): void {
    if (this.size > 0 && this.size + chunk.length > this.maxBytes) {
      // Someone else may have truncated it (a start's rotation): believe the file, not the count.
      this.size = fstatSync(this.fd).size;
      if (this.size > 0 && this.size + chunk.length > this.maxBytes) this.rotate();
    }
    for (let at = 0; at < chunk.length; ) at += writeSync(this.fd, chunk, at, chunk.length - at);
    this.size += chunk.length;
  }

  private rotate(): void {
    const next = `${this.file}.1.tmp`;
    try {
      rmSync(next, { force: true });
      const source = openSync(this.file, O_RDONLY | O_NOFOLLOW);
      try {
        const target = openSync(next, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          const buf = Buffer.alloc(COPY_CHUNK);
          for (let at = 0; ; ) {
            const read = readSync(source, buf, 0, buf.length, at);
            if (read === 0) break;
            for (let done = 0; done < read; ) done += writeSync(target, buf, done, read - done);
            at += read;
          }
        } finally {
          closeSync(target);
        }
      } finally {
        closeSync(source);
      }
      ftruncateSync(this.fd, 0);
      renameSync(next, `${this.file}.1`);
    } catch {
      ftruncateSync(this.fd, 0);
    }
    this.size = 0;
  }
}

/**
 * Sends everything the supervisor process writes to stdout/stderr (its logger, Node's warnings, a
 * container's stderr frames, a server's piped stderr) through one capped writer.
 */
export function routeStdioThroughLog(writer: CappedLogWriter): void {
  const write = (chunk: unknown, encodingOrDone?: unknown, done?: unknown): boolean => {
    const encoding = typeof encodingOrDone === 'string' ? (encodingOrDone as BufferEncoding) : 'utf8';
    writer.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array));
    const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (typeof callback === 'function') process.nextTick(callback as () => void);
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
}
