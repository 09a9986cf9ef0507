import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ThvError } from '../core/errors.js';
import { builtinProfile, parseProfile, type PermissionProfile } from './profile.js';

/**
 * `--permission-profile none|network|<file>`: a built-in by name, else a JSON or YAML file (JSON is
 * YAML, so one parser reads both). Kept apart from profile.ts so the supervisor, which only reads the
 * resolved profile from the run config, never loads the YAML parser.
 */
export async function loadProfileArgument(value: string, cwd: string = process.cwd()): Promise<PermissionProfile> {
  const builtin = builtinProfile(value);
  if (builtin) return builtin;
  const path = resolve(cwd, value);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ThvError('bad_request', `permission profile "${value}" is neither "none", "network" nor a readable file`, {
      cause: err,
      hint: 'Use --permission-profile none, network, or the path of a JSON/YAML profile (docs/isolation.md).',
    });
  }
  return parseProfileText(text, basename(path));
}

export function parseProfileText(text: string, origin: string): PermissionProfile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ThvError('bad_request', `permission profile ${origin} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const profile = parseProfile(raw, `permission profile ${origin}`);
  return { ...profile, name: profile.name ?? origin };
}
