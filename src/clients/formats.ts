import { applyEdits, findNodeAtLocation, modify, parse, parseTree, printParseErrorCode, type FormattingOptions, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import type { ConfigFormat } from './catalog.js';

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

export function editorFor(format: ConfigFormat): FormatEditor {
  switch (format) {
    case 'json':
      return jsonEditor;
    case 'yaml-map':
      return yamlEditor(false);
    case 'yaml-array':
      return yamlEditor(true);
    case 'toml':
      return tomlEditor;
  }
}

// ---- JSON / JSONC -----------------------------------------------------------------------------

function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0]!;
    const before = text.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new UnparsableFile('JSON', `${printParseErrorCode(first.error)} at line ${line}, column ${column}`);
  }
  if (!isPlainObject(value)) throw new UnparsableFile('JSON', 'the top level is not an object');
  return value;
}

/** Indentation as the file already has it, so an edit looks like the user's own. */
function formattingOf(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /\n([ \t]+)\S/.exec(text);
  if (indented?.[1]?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indented ? Math.min(indented[1]!.length, 8) : 2, eol };
}

const jsonEditor: FormatEditor = {
  read(text, pointer, name) {
    let node: unknown = parseJson(text);
    for (const key of [...pointer, name]) {
      if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return node;
  },
  write(text, pointer, name, entry) {
    parseJson(text);
    const source = text.trim() === '' ? '{}\n' : text;
    const path = [...pointer, name];
    const tree = parseTree(source, [], { allowTrailingComma: true })!;
    const existing = findNodeAtLocation(tree, path);
    if (existing) return replaceValue(source, existing, entry);
    // The deepest object on the path that exists gets the rest of the path as one new property.
    let depth = path.length - 1;
    const objectAt = (d: number) => {
      const node = d === 0 ? tree : findNodeAtLocation(tree, path.slice(0, d));
      return node?.type === 'object' ? node : undefined;
    };
    while (depth > 0 && !objectAt(depth)) depth--;
    const parent = objectAt(depth);
    let value: unknown = entry;
    for (let i = path.length - 1; i > depth; i--) value = { [path[i]!]: value };
    const inserted = parent ? insertProperty(source, parent, path[depth]!, value) : undefined;
    if (inserted !== undefined) return inserted;
    // Compact or unusual layouts: jsonc-parser's own edit, formatted around the change.
    const edits = modify(source, path.slice(0, depth + 1), value, { formattingOptions: formattingOf(source) });
    return ensureTrailingNewline(applyEdits(source, edits), source);
  },
  remove(text, pointer, name) {
    parseJson(text);
    const tree = parseTree(text, [], { allowTrailingComma: true })!;
    const value = findNodeAtLocation(tree, [...pointer, name]);
    if (!value?.parent) return text;
    return removeProperty(text, value.parent) ?? applyEdits(text, modify(text, [...pointer, name], undefined, {}));
  },
};

/*
 * Edits by hand where jsonc-parser's formatter would reformat the user's neighbouring lines: a new
 * property goes on its own lines after the last one, indented like it; a removed one takes its own
 * lines (and its trailing comment) with it. Anything laid out otherwise falls back to jsonc-parser.
 */

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  const end = nl === -1 ? text.length : nl;
  return text[end - 1] === '\r' ? end - 1 : end;
}

/** The whitespace before `offset` on its line, or undefined when something else precedes it there. */
function indentBefore(text: string, offset: number): string | undefined {
  const lead = text.slice(lineStart(text, offset), offset);
  return /^[ \t]*$/.test(lead) ? lead : undefined;
}

function pretty(value: unknown, indent: string, unit: string, eol: string): string {
  return JSON.stringify(value, null, unit).split('\n').join(`${eol}${indent}`);
}

function unitOf(text: string): string {
  const options = formattingOf(text);
  return options.insertSpaces ? ' '.repeat(options.tabSize ?? 2) : '\t';
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function replaceValue(text: string, value: JsonNode, entry: unknown): string {
  const property = value.parent;
  const indent = property ? indentBefore(text, property.offset) : undefined;
  const content = indent === undefined ? JSON.stringify(entry) : pretty(entry, indent, unitOf(text), eolOf(text));
  return text.slice(0, value.offset) + content + text.slice(value.offset + value.length);
}

function insertProperty(text: string, object: JsonNode, key: string, value: unknown): string | undefined {
  const children = object.children ?? [];
  const eol = eolOf(text);
  const unit = unitOf(text);
  const last = children[children.length - 1];
  if (!last) return undefined;
  const indent = indentBefore(text, last.offset);
  if (indent === undefined) return undefined;
  const lastEnd = last.offset + last.length;
  const endOfLine = lineEnd(text, lastEnd);
  const rest = text.slice(lastEnd, endOfLine);
  // The object must close on a later line, and the rest of the last line be a comma and/or a comment.
  if (object.offset + object.length <= endOfLine || !/^\s*,?\s*(\/\/.*|\/\*.*\*\/\s*)?$/.test(rest)) return undefined;
  const property = `${eol}${indent}${JSON.stringify(key)}: ${pretty(value, indent, unit, eol)}`;
  // A file whose last property has a trailing comma gets one after the new property too (its style, and a clean undo).
  const hasComma = /^\s*,/.test(rest);
  return text.slice(0, lastEnd) + (hasComma ? '' : ',') + text.slice(lastEnd, endOfLine) + property + (hasComma ? ',' : '') + text.slice(endOfLine);
}

function removeProperty(text: string, property: JsonNode): string | undefined {
  const siblings = property.parent?.children ?? [];
  const index = siblings.indexOf(property);
  const end = property.offset + property.length;
  const endOfLine = lineEnd(text, end);
  if (indentBefore(text, property.offset) === undefined) return undefined;
  if (!/^\s*,?\s*(\/\/.*)?$/.test(text.slice(end, endOfLine))) return undefined;
  // Its whole lines go, including the line break that ends them.
  const from = lineStart(text, property.offset);
  const to = text.startsWith('\r\n', endOfLine) ? endOfLine + 2 : text[endOfLine] === '\n' ? endOfLine + 1 : endOfLine;
  let next = text.slice(0, from) + text.slice(to);
  const isLast = index === siblings.length - 1;
  if (isLast && index > 0 && !/^\s*,/.test(text.slice(end, endOfLine))) {
    // The property before it now ends the object: its comma goes (JSON allows no trailing comma).
    const previous = siblings[index - 1]!;
    const previousEnd = previous.offset + previous.length;
    const match = /^\s*,/.exec(next.slice(previousEnd));
    if (!match) return undefined;
    const commaAt = previousEnd + match[0].length - 1;
    next = next.slice(0, commaAt) + next.slice(commaAt + 1);
  }
  return next;
}

function ensureTrailingNewline(next: string, before: string): string {
  return before.endsWith('\n') && !next.endsWith('\n') ? `${next}\n` : next;
}

// ---- YAML -------------------------------------------------------------------------------------

function parseYaml(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    throw new UnparsableFile('YAML', `${first.message.split('\n')[0]!}${where}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) throw new UnparsableFile('YAML', 'the top level is not a mapping');
  return doc;
}

function yamlEditor(asArray: boolean): FormatEditor {
  const findIndex = (doc: Document, pointer: readonly string[], name: string): number => {
    const seq = doc.getIn(pointer);
    if (!isSeq(seq)) return -1;
    return seq.items.findIndex((item) => isMap(item) && item.get('name') === name);
  };
  return {
    read(text, pointer, name) {
      const doc = parseYaml(text);
      if (asArray) {
        const index = findIndex(doc, pointer, name);
        return index === -1 ? undefined : (doc.getIn([...pointer, index]) as { toJSON(): unknown }).toJSON();
      }
      const node = doc.getIn([...pointer, name]);
      return node && typeof node === 'object' && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node ?? undefined;
    },
    write(text, pointer, name, entry) {
      const doc = parseYaml(text);
      if (asArray) {
        const index = findIndex(doc, pointer, name);
        if (index !== -1) doc.setIn([...pointer, index], doc.createNode(entry));
        else if (isSeq(doc.getIn(pointer))) (doc.getIn(pointer) as { add(v: unknown): void }).add(doc.createNode(entry));
        else doc.setIn(pointer, doc.createNode([entry]));
      } else if (isMap(doc.getIn(pointer))) {
        doc.setIn([...pointer, name], doc.createNode(entry));
      } else {
        doc.setIn(pointer, doc.createNode({ [name]: entry }));
      }
      return doc.toString();
    },
    remove(text, pointer, name) {
      const doc = parseYaml(text);
      if (asArray) {
        const index = findIndex(doc, pointer, name);
        if (index !== -1) doc.deleteIn([...pointer, index]);
      } else {
        doc.deleteIn([...pointer, name]);
      }
      return doc.toString();
    },
  };
}

// ---- TOML -------------------------------------------------------------------------------------

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

const tomlEditor: FormatEditor = {
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

// ---- shared -----------------------------------------------------------------------------------

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
