import { createRequire } from 'node:module';
import { closeSync, constants, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ThvError } from './errors.js';

/** node:crypto is loaded on the first write: read-only commands never pay for it (docs/architecture.md#start-up). */
function randomHex(bytes: number): string {
  return (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');
}

export interface WriteOptions {
  /**
   * The file lives in one of thv's own folders (the default): its folder is created, or tightened,
   * to 0700. A file of the user's elsewhere (a client's config, a converted registry file) leaves
   * its folder as the user made it.
   */
  ownFolder?: boolean;
}

/**
 * Atomic, owner-only write that never follows a symlink (docs/architecture.md#files-on-disk): the
 * data goes to a new temp file beside `file`, created with O_EXCL|O_NOFOLLOW so a planted link is
 * never written through, fsynced, then renamed over `file` — rename replaces a symlink at `file`
 * itself, never its target. Parent folders are created 0700, and thv's own folder is tightened to
 * 0700 when it is looser.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, options: WriteOptions = {}): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (options.ownFolder !== false) await tightenFolder(dir);
  const temp = join(dir, `.${basename(file)}.${randomHex(6)}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      await handle.writeFile(typeof data === 'string' ? data : Buffer.from(data));
      // The umask may have narrowed the mode at creation; the file gets exactly what was asked.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Makes one of thv's folders 0700 when it is group- or world-accessible (an older thv, a umask of
 * 022, a folder made by hand). Only a real folder owned by this user is changed; a symlinked folder
 * is the user's choice and left alone.
 */
export async function tightenFolder(dir: string): Promise<void> {
  let info;
  try {
    info = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isDirectory() || (info.mode & 0o077) === 0) return;
  if (process.getuid && info.uid !== process.getuid()) return;
  await chmod(dir, 0o700);
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

/**
 * Reads one of thv's own files (run configs, statuses, groups, records), or undefined when it does not
 * exist, never through a symlink and only when it is a regular file: a link or FIFO planted there is a
 * `config_invalid` naming the file, so nothing outside thv's folders is read (or quoted in an error).
 */
export async function readOwnFileIfExists(file: string): Promise<string | undefined> {
  // Synchronous on purpose: these are thv's small state files (run configs, statuses, records), and
  // `thv list` reads two per workload; each asynchronous step is a thread-pool round trip that costs
  // more than the read — on a loaded 2-core machine 100 files took 200-300 ms async, 2-20 ms sync
  // (docs/architecture.md#start-up).
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw notOwnFile(file, 'a symbolic link');
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) throw notOwnFile(file, 'not a regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The names (without `.json`) of the JSON files in one of thv's state folders, sorted; none when the
 * folder does not exist. Synchronous for the reason readOwnFileIfExists is.
 */
export function jsonFileNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function notOwnFile(file: string, what: string): ThvError {
  return new ThvError('config_invalid', `${file} is ${what}; thv does not read through one`, { hint: `Remove ${file}: thv did not make it.` });
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
