import { parse as parseToml } from 'smol-toml';
import { UnparsableFile, deepEqual, isPlainObject, type FormatEditor } from './format-common.js';

/*
 * No maintained JS TOML library keeps comments and layout on a round trip (smol-toml and @iarna/toml
 * re-serialise everything), so thv edits the text of its own `[mcp_servers.<name>]` table only and
 * checks the result with a full parse: the edit must leave a valid file whose entry is exactly the
 * one intended, or nothing is written.
 */

function parseTomlText(text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new UnparsableFile('TOML', (err as Error).message.split('\n')[0]!);
  }
}

function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

function tomlValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (isPlainObject(value)) return `{ ${Object.entries(value).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`).join(', ')} }`;
  throw new Error(`cannot write ${typeof value} as TOML`);
}

/** Lines of the `[<pointer>.<name>]` table and its sub-tables, as [start, end) line indexes. */
function tableRange(lines: string[], pointer: readonly string[], name: string): [number, number] | undefined {
  const keyPattern = (k: string) => `(?:${escapeRegExp(k)}|"${escapeRegExp(JSON.stringify(k).slice(1, -1))}"|'${escapeRegExp(k)}')`;
  const path = [...pointer, name].map(keyPattern).join('\\s*\\.\\s*');
  const header = new RegExp(`^\\s*\\[\\s*${path}\\s*\\]\\s*(?:#.*)?$`);
  const subHeader = new RegExp(`^\\s*\\[\\s*${path}\\s*\\.`);
  const start = lines.findIndex((l) => header.test(l));
  if (start === -1) return undefined;
  let end = start + 1;
  while (end < lines.length) {
    const line = lines[end]!;
    if (/^\s*\[/.test(line) && !subHeader.test(line)) break;
    end++;
  }
  // Blank lines before the next table stay with it.
  while (end > start + 1 && lines[end - 1]!.trim() === '') end--;
  return [start, end];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lookup(root: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

export const tomlEditor: FormatEditor = {
  read(text, pointer, name) {
    return lookup(parseTomlText(text), [...pointer, name]);
  },
  write(text, pointer, name, entry) {
    parseTomlText(text);
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(/\r?\n/);
    const range = tableRange(lines, pointer, name);
    const block = [`[${[...pointer, name].map(tomlKey).join('.')}]`, ...Object.entries(entry).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)];
    let next: string;
    if (range) {
      next = [...lines.slice(0, range[0]), ...block, ...lines.slice(range[1])].join(eol);
    } else {
      const body = text.replace(/\s*$/, '');
      next = `${body}${body ? `${eol}${eol}` : ''}${block.join(eol)}${eol}`;
    }
    const check = lookup(parseTomlText(next), [...pointer, name]);
    if (!deepEqual(check, entry)) throw new UnparsableFile('TOML', `the [${[...pointer, name].join('.')}] table could not be edited in place`);
    return next;
  },
  remove(text, pointer, name) {
    parseTomlText(text);
    const lines = text.split(/\r?\n/);
    const range = tableRange(lines, pointer, name);
    if (!range) return text;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    let [start] = range;
    const [, end] = range;
    // The blank line that separated the table from the one before goes with it.
    while (start > 0 && lines[start - 1]!.trim() === '') start--;
    const next = [...lines.slice(0, start), ...lines.slice(end)].join(eol);
    const result = start === 0 ? next.replace(/^(\r?\n)+/, '') : next;
    if (lookup(parseTomlText(result), [...pointer, name]) !== undefined) {
      throw new UnparsableFile('TOML', `the [${[...pointer, name].join('.')}] table could not be removed in place`);
    }
    return result;
  },
};
