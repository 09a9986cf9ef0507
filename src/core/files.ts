import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Atomic (temp file + fsync + rename), owner-only write; parent folders are created 0700. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Loaded on first write: with graceful-fs they cost start-up time that read-only commands skip.
  const { default: writeFileAtomicLib } = await import('write-file-atomic');
  await writeFileAtomicLib(file, typeof data === 'string' ? data : Buffer.from(data), { mode, fsync: true });
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a file, or undefined when it does not exist. Other errors propagate. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function fileMtimeMs(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface LockOptions {
  /** How long to keep trying before giving up, in ms. */
  waitMs?: number;
  /** A lock whose holder stopped refreshing it for this long is taken over (a crashed process). */
  staleMs?: number;
}

/**
 * Runs `fn` while holding an inter-process lock on `file` (the file itself need not exist), so two
 * thv processes doing read-modify-write on it never lose each other's update.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const waitMs = options.waitMs ?? 15_000;
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(file, {
    realpath: false,
    lockfilePath: `${file}.lock`,
    stale: options.staleMs ?? 10_000,
    retries: { retries: Math.ceil(waitMs / 50), factor: 1, minTimeout: 25, maxTimeout: 50, randomize: true },
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
