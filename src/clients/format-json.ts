import { applyEdits, findNodeAtLocation, modify, parse, parseTree, printParseErrorCode, type FormattingOptions, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { UnparsableFile, isPlainObject, type FormatEditor } from './format-common.js';

// JSON and JSONC through jsonc-parser's text edits: comments and layout around the entry are kept.

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

export const jsonEditor: FormatEditor = {
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
