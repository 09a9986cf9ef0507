// What the three format editors share (docs/clients.md).

/**
 * Edits one server entry in a client's config file and leaves every other byte as it was where the
 * format allows: JSONC through jsonc-parser's text edits, YAML through the yaml Document (comments
 * kept), TOML through a targeted edit of the `[mcp_servers.<name>]` table (docs/clients.md).
 */
export interface FormatEditor {
  /** The entry of `name`, or undefined. Throws UnparsableFile when the text is not valid. */
  read(text: string, pointer: readonly string[], name: string): unknown;
  write(text: string, pointer: readonly string[], name: string, entry: Record<string, unknown>): string;
  remove(text: string, pointer: readonly string[], name: string): string;
}

/** The file is not valid in its format; it is reported and never rewritten. */
export class UnparsableFile extends Error {
  constructor(
    readonly format: string,
    readonly detail: string,
  ) {
    super(`not valid ${format}: ${detail}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of parsed config values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
