import { rm } from 'node:fs/promises';
import type { Paths } from '../core/paths.js';
import { ThvError } from '../core/errors.js';
import { jsonFileNames, readOwnFileIfExists, withFileLock, writeJsonAtomic } from '../core/files.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { checkName } from '../core/names.js';
import { WORKLOAD_STATUSES, type StatusFile, type WorkloadStatus } from './types.js';

/** Status files (docs/workloads.md#files): one per workload, written atomically 0600 under a lock. */
export class StatusStore {
  constructor(
    private readonly paths: Paths,
    private readonly clock: Clock = systemClock,
  ) {}

  file(name: string): string {
    // Not path.join: the folder is already normal and the name checked, and `thv list` calls this per workload.
    return `${this.paths.statusesDir}/${checkName('workload', name)}.json`;
  }

  async read(name: string): Promise<StatusFile | undefined> {
    let text: string | undefined;
    try {
      text = await readOwnFileIfExists(this.file(name));
    } catch (err) {
      // A link or FIFO planted in its place: damaged like an unreadable file; the next write replaces it.
      if (err instanceof ThvError && err.code === 'config_invalid') return { status: 'unknown', status_context: err.message, created_at: '', updated_at: '', process_id: 0 };
      throw err;
    }
    if (text === undefined) return undefined;
    try {
      return normalise(JSON.parse(text));
    } catch {
      return { status: 'unknown', status_context: 'status file is unreadable', created_at: '', updated_at: '', process_id: 0 };
    }
  }

  /**
   * Sets the status. `processId` undefined keeps the recorded one. When `onlyIf` is given, the write
   * happens only if it approves the current file (e.g. "the pid is still mine"), so a dying
   * supervisor never overwrites the status of its successor.
   */
  async set(
    name: string,
    status: WorkloadStatus,
    context = '',
    options: { processId?: number; onlyIf?: (current: StatusFile | undefined) => boolean } = {},
  ): Promise<StatusFile | undefined> {
    const file = this.file(name);
    return withFileLock(file, async () => {
      const current = await this.read(name);
      if (options.onlyIf && !options.onlyIf(current)) return current;
      const now = new Date(this.clock.now()).toISOString();
      const next: StatusFile = {
        status,
        status_context: context,
        created_at: current?.created_at || now,
        updated_at: now,
        process_id: options.processId ?? current?.process_id ?? 0,
      };
      await writeJsonAtomic(file, next);
      return next;
    });
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  async names(): Promise<string[]> {
    return jsonFileNames(this.paths.statusesDir);
  }
}

function normalise(raw: Partial<StatusFile>): StatusFile {
  const status = WORKLOAD_STATUSES.includes(raw.status as WorkloadStatus) ? (raw.status as WorkloadStatus) : 'unknown';
  return {
    status,
    status_context: typeof raw.status_context === 'string' ? raw.status_context : '',
    created_at: typeof raw.created_at === 'string' ? raw.created_at : '',
    updated_at: typeof raw.updated_at === 'string' ? raw.updated_at : '',
    process_id: typeof raw.process_id === 'number' ? raw.process_id : 0,
  };
}
