import { rm } from 'node:fs/promises';
import type { Paths } from '../core/paths.js';
import { jsonFileNames, readOwnFileIfExists, withFileLock, writeJsonAtomic } from '../core/files.js';
import { ThvError, notFound } from '../core/errors.js';
import { checkName } from '../core/names.js';
import { parseRunConfig, type RunConfig } from './types.js';

/** Run configs (docs/workloads.md#files): everything needed to start a workload again, and no secret values. */
export class RunConfigStore {
  constructor(private readonly paths: Paths) {}

  file(name: string): string {
    // Not path.join: the folder is already normal and the name checked, and `thv list` calls this per workload.
    return `${this.paths.runConfigsDir}/${checkName('workload', name)}.json`;
  }

  async read(name: string): Promise<RunConfig | undefined> {
    const file = this.file(name);
    const text = await readOwnFileIfExists(file);
    if (text === undefined) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // Without the parser's message (or cause): it quotes the file's first bytes.
      throw new ThvError('config_invalid', `run config ${file} is not valid JSON`, { hint: `Remove it with \`thv rm ${name}\`.` });
    }
    const parsed = parseRunConfig(raw);
    if ('problem' in parsed) {
      throw new ThvError('config_invalid', `run config ${file}: ${parsed.path}: ${parsed.problem}`, {
        hint: `Remove it with \`thv rm ${name}\` and run the workload again.`,
      });
    }
    // A file's name is the workload it belongs to: a config naming another workload (edited, or
    // copied by hand) is damaged, never acted on as that other workload (docs/workloads.md#files).
    if (parsed.config.name !== name) {
      throw new ThvError('config_invalid', `run config ${file} names workload "${printableName(parsed.config.name)}", not "${name}"`, {
        hint: `Remove it with \`thv rm ${name}\` and run the workload again.`,
      });
    }
    return parsed.config;
  }

  async get(name: string): Promise<RunConfig> {
    const config = await this.read(name);
    if (!config) throw notFound(`workload "${name}" not found`, 'Run `thv list --all` to see workloads.');
    return config;
  }

  async write(config: RunConfig): Promise<void> {
    await writeJsonAtomic(this.file(config.name), config);
  }

  /**
   * Read-modify-write of a run config under its own lock. Not the lock `start` holds on `file(name)`
   * while it waits for the supervisor: the supervisor updates the run config (its port, the OAuth
   * session key) during that wait, so sharing that lock would deadlock.
   */
  async update(name: string, change: (config: RunConfig) => RunConfig): Promise<RunConfig> {
    return withFileLock(`${this.file(name)}.update`, async () => {
      const next = change(await this.get(name));
      await this.write(next);
      return next;
    });
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  async names(): Promise<string[]> {
    return jsonFileNames(this.paths.runConfigsDir);
  }
}

function printableName(name: string): string {
  const clean = name.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
