import { parseDocument, stringify } from 'yaml';
import { ThvError } from '../core/errors.js';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../core/files.js';
import { configSchema, type Config } from './schema.js';

/**
 * config.yaml, read on demand and updated under a lock. A file that does not parse or validate is
 * reported with its path and key and is never overwritten: the user's settings are not lost.
 */
export class ConfigStore {
  constructor(readonly file: string) {}

  async load(): Promise<Config> {
    const text = await readFileIfExists(this.file);
    return text === undefined ? {} : this.parse(text);
  }

  /** Read-modify-write under the file lock; `change` may mutate the draft or return a new one. */
  async update(change: (draft: Config) => Config | void): Promise<Config> {
    return withFileLock(this.file, async () => {
      const current = await this.load();
      const draft = structuredClone(current);
      const next = change(draft) ?? draft;
      const checked = this.validate(next);
      await writeFileAtomic(this.file, stringify(checked));
      return checked;
    });
  }

  private parse(text: string): Config {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
      throw new ThvError('config_invalid', `config file ${this.file} is not valid YAML${where}: ${first.message.split('\n')[0]!.replace(/:\s*$/, '')}`, {
        hint: 'Fix or remove the file; thv will not overwrite it while it is invalid.',
      });
    }
    const value: unknown = doc.toJS() ?? {};
    return this.validate(value);
  }

  private validate(value: unknown): Config {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ThvError('config_invalid', `config file ${this.file} must hold a YAML mapping of settings`, {
        hint: 'Fix or remove the file; thv will not overwrite it while it is invalid.',
      });
    }
    const result = configSchema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    throw new ThvError('config_invalid', `config file ${this.file}: key \`${key}\`: ${issue.message}`, {
      hint: 'Fix the value, or remove the key to use the default.',
    });
  }
}
