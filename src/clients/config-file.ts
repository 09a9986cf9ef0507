import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ThvError } from '../core/errors.js';
import { readFileIfExists, withFileLock, writeFileAtomic, writeJsonAtomic } from '../core/files.js';
import { sha256Hex } from '../core/paths.js';
import type { ClientDefinition } from './catalog.js';
import { UnparsableFile, deepEqual, editorFor, isPlainObject } from './formats.js';

/**
 * What happened to one entry in one file:
 * - `added` / `updated` / `removed`: thv changed the file;
 * - `unchanged`: thv's entry was already there as it should be;
 * - `foreign`: an entry of that name that thv did not write (or the user changed) is there: left alone;
 * - `absent`: nothing to remove;
 * - `not_installed`: the file does not exist and the client is not installed, so nothing is created;
 * - `unsupported`: the client cannot reach this workload (e.g. an SSE-only remote for Codex).
 */
export type EntryOutcome = 'added' | 'updated' | 'removed' | 'unchanged' | 'foreign' | 'absent' | 'not_installed' | 'unsupported';

/** The entries thv wrote to one client file, so it never removes or overwrites one it did not write. */
interface Ledger {
  file: string;
  client: string;
  entries: Record<string, unknown>;
}

/**
 * Edits client config files safely (docs/clients.md): one lock per real file (kept in thv's state
 * folder, never beside the client's file), the file re-read right before an atomic write to its
 * symlink target with its mode kept, a file that does not parse reported and left byte-identical,
 * and a ledger of what thv wrote.
 */
export class ClientConfigFiles {
  /** How often an edit is recomputed when the client itself changes the file meanwhile. */
  private static readonly ATTEMPTS = 5;

  constructor(private readonly stateDir: string) {}

  async upsert(client: ClientDefinition, file: string, name: string, entry: Record<string, unknown>, options: { create: boolean }): Promise<EntryOutcome> {
    const target = await resolveSymlinks(file);
    const editor = editorFor(client.format);
    return this.locked(target, async () => {
      for (let attempt = 0; attempt < ClientConfigFiles.ATTEMPTS; attempt++) {
        const before = await readFileIfExists(target);
        if (before === undefined && !options.create) return 'not_installed';
        const text = before ?? client.emptyFile ?? '';
        const current = this.parse(client, file, () => editor.read(text, client.pointer, name));
        const ledger = await this.ledger(target, client.id);
        const recorded = ledger.entries[name];
        if (current !== undefined) {
          if (recorded === undefined || !deepEqual(current, recorded)) {
            if (recorded !== undefined) await this.forget(target, ledger, name);
            return 'foreign';
          }
          if (deepEqual(current, entry)) return 'unchanged';
        }
        const next = this.parse(client, file, () => editor.write(text, client.pointer, name, entry));
        if ((await readFileIfExists(target)) !== before) continue;
        await writeFileAtomic(target, next, await modeOf(target), { ownFolder: false });
        ledger.entries[name] = entry;
        await writeJsonAtomic(this.ledgerFile(target), ledger);
        return current === undefined ? 'added' : 'updated';
      }
      throw busy(client, file);
    });
  }

  async remove(client: ClientDefinition, file: string, name: string): Promise<EntryOutcome> {
    const target = await resolveSymlinks(file);
    const editor = editorFor(client.format);
    return this.locked(target, async () => {
      for (let attempt = 0; attempt < ClientConfigFiles.ATTEMPTS; attempt++) {
        const ledger = await this.ledger(target, client.id);
        const recorded = ledger.entries[name];
        const before = await readFileIfExists(target);
        if (before === undefined) {
          if (recorded !== undefined) await this.forget(target, ledger, name);
          return 'absent';
        }
        const current = this.parse(client, file, () => editor.read(before, client.pointer, name));
        if (current === undefined || recorded === undefined || !deepEqual(current, recorded)) {
          if (recorded !== undefined) await this.forget(target, ledger, name);
          return current === undefined ? 'absent' : 'foreign';
        }
        const next = this.parse(client, file, () => editor.remove(before, client.pointer, name));
        if ((await readFileIfExists(target)) !== before) continue;
        await writeFileAtomic(target, next, await modeOf(target), { ownFolder: false });
        await this.forget(target, ledger, name);
        return 'removed';
      }
      throw busy(client, file);
    });
  }

  /** Names of the entries thv wrote to this file. */
  async managedNames(client: ClientDefinition, file: string): Promise<string[]> {
    const target = await resolveSymlinks(file);
    return Object.keys((await this.ledger(target, client.id)).entries);
  }

  private parse<T>(client: ClientDefinition, file: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof UnparsableFile)) throw err;
      throw new ThvError('config_invalid', `${client.displayName} config file ${file} is ${err.message}`, {
        cause: err,
        hint: 'thv left the file unchanged. Fix it, then run `thv client register ' + client.id + '` again.',
      });
    }
  }

  private locked<T>(target: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.stateDir, 'clients', 'locks', fileKey(target)), fn);
  }

  private ledgerFile(target: string): string {
    return join(this.stateDir, 'clients', 'entries', `${fileKey(target)}.json`);
  }

  private async ledger(target: string, client: string): Promise<Ledger> {
    const text = await readFileIfExists(this.ledgerFile(target));
    if (text !== undefined) {
      try {
        const raw = JSON.parse(text) as Partial<Ledger>;
        if (isPlainObject(raw.entries)) return { file: target, client, entries: raw.entries };
      } catch {
        // A damaged ledger means thv no longer knows what it wrote: it then treats every entry as the user's.
      }
    }
    return { file: target, client, entries: {} };
  }

  private async forget(target: string, ledger: Ledger, name: string): Promise<void> {
    delete ledger.entries[name];
    await writeJsonAtomic(this.ledgerFile(target), ledger);
  }
}

function fileKey(target: string): string {
  return sha256Hex(target).slice(0, 24);
}

function busy(client: ClientDefinition, file: string): ThvError {
  return new ThvError('internal', `${client.displayName} config file ${file} kept changing while thv tried to edit it`, {
    hint: 'Try again when the client is idle.',
  });
}

/** The file a path finally points to (relative links resolved from their own folder); it may not exist yet. */
export async function resolveSymlinks(file: string): Promise<string> {
  let current = resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let info;
    try {
      info = await lstat(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw err;
    }
    if (!info.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw new ThvError('config_invalid', `${file}: too many levels of symbolic links`);
}

/** The file's permission bits, kept on rewrite; a new file is the owner's only. */
async function modeOf(target: string): Promise<number> {
  try {
    return (await stat(target)).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0o600;
    throw err;
  }
}
