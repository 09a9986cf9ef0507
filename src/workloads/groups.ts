import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { readOwnFileIfExists, withFileLock, writeJsonAtomic } from '../core/files.js';
import { ThvError, badRequest, isThvError, notFound } from '../core/errors.js';
import { checkName, isValidName } from '../core/names.js';

export const DEFAULT_GROUP = 'default';

/** For commands that act on an existing group (`group rm`, `GET /groups/{name}`): creating one is no help. */
export const LIST_GROUPS_HINT = 'Run `thv group list` to see the groups.';

export interface Group {
  name: string;
  registered_clients: string[];
  /** Absent for the implicit default group, which has no file and so no creation time. */
  created_at?: string;
  /** Set by `list` when the group's file cannot be read: the group is reported, not the list refused. */
  problem?: string;
}

/** Groups (docs/workloads.md#files): one JSON file each. `default` exists implicitly and cannot be removed. */
export class GroupStore {
  constructor(
    private readonly paths: Paths,
    private readonly clock: Clock = systemClock,
  ) {}

  private file(name: string): string {
    // Every read, write and delete goes through here: a name like ../../x never becomes a path.
    return join(this.paths.groupsDir, `${checkName('group', name)}.json`);
  }

  async get(name: string): Promise<Group | undefined> {
    const text = await readOwnFileIfExists(this.file(name));
    if (text === undefined) return name === DEFAULT_GROUP ? { name, registered_clients: [] } : undefined;
    try {
      const raw = JSON.parse(text) as Partial<Group>;
      return { name, registered_clients: Array.isArray(raw.registered_clients) ? raw.registered_clients : [], ...(typeof raw.created_at === 'string' ? { created_at: raw.created_at } : {}) };
    } catch {
      throw new ThvError('config_invalid', `group file ${this.file(name)} is not valid JSON`, { hint: `Remove it with \`thv group rm ${name}\`.` });
    }
  }

  /** The group; the hint of the error for a missing one suits commands that want to use it. */
  async require(name: string, missingHint = `Create it with \`thv group create ${name}\`.`): Promise<Group> {
    const group = await this.get(name);
    if (!group) throw notFound(`group "${name}" does not exist`, missingHint);
    return group;
  }

  async create(name: string): Promise<Group> {
    checkName('group', name);
    const file = this.file(name);
    return withFileLock(file, async () => {
      if ((await readOwnFileIfExists(file)) !== undefined || name === DEFAULT_GROUP) {
        const hint = name === DEFAULT_GROUP ? 'Choose another name.' : `Choose another name, or remove it with \`thv group rm ${name}\`.`;
        throw new ThvError('already_exists', `group "${name}" already exists`, { hint });
      }
      const group: Group = { name, registered_clients: [], created_at: new Date(this.clock.now()).toISOString() };
      await writeJsonAtomic(file, group);
      return group;
    });
  }

  /** Checked before a group's workloads are touched, so refusing `default` removes nothing. */
  async requireRemovable(name: string): Promise<Group> {
    if (name === DEFAULT_GROUP) throw badRequest('the default group cannot be removed');
    return this.require(name, LIST_GROUPS_HINT);
  }

  /** Changes a group's registered clients under its file lock (`thv client register/remove`). */
  async updateRegisteredClients(name: string, change: (clients: string[]) => string[]): Promise<Group> {
    const file = this.file(name);
    return withFileLock(file, async () => {
      const group = await this.require(name);
      const next: Group = { ...group, registered_clients: change([...group.registered_clients]) };
      await writeJsonAtomic(file, next);
      return next;
    });
  }

  async list(): Promise<Group[]> {
    let files: string[] = [];
    try {
      files = (await readdir(this.paths.groupsDir)).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A stray file whose name is no group name (e.g. `a b.json`) is not a group: skipped, not read.
    const names = new Set([DEFAULT_GROUP, ...files.map((f) => f.slice(0, -5)).filter((n) => isValidName('group', n))]);
    const groups = await Promise.all(
      [...names].map((n) =>
        this.get(n).catch((err: unknown): Group => {
          if (!isThvError(err, 'config_invalid')) throw err;
          return { name: n, registered_clients: [], problem: err.message };
        }),
      ),
    );
    return groups.filter((g): g is Group => g !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    await this.requireRemovable(name);
    await rm(this.file(name), { force: true });
  }
}
