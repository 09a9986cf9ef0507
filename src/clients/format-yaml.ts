import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { UnparsableFile, type FormatEditor } from './format-common.js';

// YAML through the yaml Document, so comments survive; a map of servers or an array of named entries.

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

export function yamlEditor(asArray: boolean): FormatEditor {
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
