import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { readFileIfExists, withFileLock, writeJsonAtomic } from '../core/files.js';
import { ThvError, badRequest, notFound } from '../core/errors.js';
import { NAME_PATTERN } from './types.js';

export const DEFAULT_GROUP = 'default';

export interface Group {
  name: string;
  registered_clients: string[];
  created_at: string;
}

/** Groups (SPEC §2): one JSON file each. `default` exists implicitly and cannot be removed. */
export class GroupStore {
  constructor(
    private readonly paths: Paths,
    private readonly clock: Clock = systemClock,
  ) {}

  private file(name: string): string {
    return join(this.paths.groupsDir, `${name}.json`);
  }

  async get(name: string): Promise<Group | undefined> {
    const text = await readFileIfExists(this.file(name));
    if (text === undefined) return name === DEFAULT_GROUP ? this.fresh(name) : undefined;
    try {
      const raw = JSON.parse(text) as Partial<Group>;
      return { name, registered_clients: Array.isArray(raw.registered_clients) ? raw.registered_clients : [], created_at: raw.created_at ?? '' };
    } catch {
      throw new ThvError('config_invalid', `group file ${this.file(name)} is not valid JSON`, { hint: `Remove it with \`thv group rm ${name}\`.` });
    }
  }

  async require(name: string): Promise<Group> {
    const group = await this.get(name);
    if (!group) throw notFound(`group "${name}" does not exist`, `Create it with \`thv group create ${name}\`.`);
    return group;
  }

  async create(name: string): Promise<Group> {
    if (!NAME_PATTERN.test(name)) throw badRequest(`"${name}" is not a valid group name`, 'Use letters, digits, ".", "_" and "-".');
    const file = this.file(name);
    return withFileLock(file, async () => {
      if ((await readFileIfExists(file)) !== undefined || name === DEFAULT_GROUP) {
        throw new ThvError('already_exists', `group "${name}" already exists`);
      }
      const group = this.fresh(name);
      await writeJsonAtomic(file, group);
      return group;
    });
  }

  async list(): Promise<Group[]> {
    let files: string[] = [];
    try {
      files = (await readdir(this.paths.groupsDir)).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const names = new Set([DEFAULT_GROUP, ...files.map((f) => f.slice(0, -5))]);
    const groups = await Promise.all([...names].map((n) => this.get(n)));
    return groups.filter((g): g is Group => g !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    if (name === DEFAULT_GROUP) throw badRequest('the default group cannot be removed');
    await this.require(name);
    await rm(this.file(name), { force: true });
  }

  private fresh(name: string): Group {
    return { name, registered_clients: [], created_at: new Date(this.clock.now()).toISOString() };
  }
}
