import { badRequest } from './errors.js';

/**
 * The one name validator (docs/workloads.md#names). Workload and group names become file names under
 * thv's folders, so they are plain words: letters, digits, ".", "_" and "-", starting with a letter or
 * digit, at most 63 characters — no "/", no "..", nothing a path could be built from. Secret names
 * live inside the encrypted store and in `TOOLHIVE_SECRET_<NAME>`, so they are longer and freer, but
 * never carry whitespace, control characters or "=". Every entry point (CLI arguments, API path
 * parameters and bodies, run configs and group files read from disk) and every place that turns a
 * name into a path goes through `checkName`.
 */
export type NameKind = 'workload' | 'group' | 'secret';

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** The same rule for JSON schemas (API path parameters and bodies). */
export const NAME_PATTERN_SOURCE = NAME_PATTERN.source;
export const MAX_SECRET_NAME_LENGTH = 256;

/** Why `name` is not a valid name of this kind, or undefined when it is. */
export function nameProblem(kind: NameKind, name: unknown): string | undefined {
  if (typeof name !== 'string') return `a ${kind} name must be a string`;
  if (kind === 'secret') {
    if (name.length === 0) return 'a secret name must not be empty';
    if (name.length > MAX_SECRET_NAME_LENGTH) return `a secret name must be at most ${MAX_SECRET_NAME_LENGTH} characters`;
    if (/[\s\x00-\x1f\x7f=]/.test(name)) return 'a secret name must not contain whitespace, control characters or "="';
    return undefined;
  }
  if (!NAME_PATTERN.test(name)) return `"${printable(name)}" is not a valid ${kind} name`;
  return undefined;
}

export function isValidName(kind: NameKind, name: unknown): name is string {
  return nameProblem(kind, name) === undefined;
}

/** Throws `bad_request` (exit 2, HTTP 400) for an invalid name; returns the name for chaining. */
export function checkName(kind: NameKind, name: unknown): string {
  const problem = nameProblem(kind, name);
  if (problem) {
    throw badRequest(problem, kind === 'secret' ? undefined : 'Use up to 63 letters, digits, ".", "_" and "-", starting with a letter or digit.');
  }
  return name as string;
}

/** Names end up in messages; a hostile one must not smuggle control characters or pages of text. */
function printable(name: string): string {
  const clean = name.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
