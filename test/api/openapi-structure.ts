/**
 * A structural check of an OpenAPI 3.0 document (no validator package is installed): the parts a
 * generator or client relies on. Returns every problem found, so a failing test shows them all.
 */
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PATH_ITEM_KEYS = new Set([...METHODS, 'summary', 'description', 'servers', 'parameters', '$ref']);
const PARAM_LOCATIONS = new Set(['query', 'header', 'path', 'cookie']);

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function openApiProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['the document is not an object'];
  if (typeof doc.openapi !== 'string' || !/^3\.\d+\.\d+$/.test(doc.openapi)) problems.push(`openapi must be 3.x.y, got ${String(doc.openapi)}`);
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') problems.push('info needs title and version strings');
  if (!isObject(doc.paths)) return [...problems, 'paths must be an object'];
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) problems.push(`path ${path} must start with /`);
    if (!isObject(item)) {
      problems.push(`path ${path} must be an object`);
      continue;
    }
    for (const key of Object.keys(item)) if (!PATH_ITEM_KEYS.has(key) && !key.startsWith('x-')) problems.push(`${path}: unknown key ${key}`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!isObject(op)) {
        problems.push(`${where} must be an object`);
        continue;
      }
      if (typeof op.operationId === 'string') {
        if (operationIds.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
        operationIds.add(op.operationId);
      }
      const params = [...asArray(item.parameters), ...asArray(op.parameters)];
      for (const p of params) {
        if (!isObject(p) || typeof p.name !== 'string' || !PARAM_LOCATIONS.has(String(p.in))) {
          problems.push(`${where}: parameter needs a name and a valid "in"`);
          continue;
        }
        if (!isObject(p.schema) && !isObject(p.content)) problems.push(`${where}: parameter ${p.name} needs a schema`);
        if (p.in === 'path' && p.required !== true) problems.push(`${where}: path parameter ${p.name} must be required`);
        if (p.in === 'path' && !templated.includes(p.name)) problems.push(`${where}: path parameter ${p.name} is not in the path`);
      }
      for (const name of templated) {
        if (!params.some((p) => isObject(p) && p.in === 'path' && p.name === name)) problems.push(`${where}: {${name}} has no path parameter`);
      }
      if (op.requestBody !== undefined && (!isObject(op.requestBody) || !isObject(op.requestBody.content))) {
        problems.push(`${where}: requestBody needs content`);
      }
      if (!isObject(op.responses) || Object.keys(op.responses).length === 0) {
        problems.push(`${where}: responses must be a non-empty object`);
        continue;
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (status !== 'default' && !/^[1-5](\d\d|XX)$/.test(status)) problems.push(`${where}: bad response key ${status}`);
        if (!isObject(response) || typeof response.description !== 'string') problems.push(`${where} ${status}: response needs a description`);
        else if (response.content !== undefined && !isObject(response.content)) problems.push(`${where} ${status}: content must be an object`);
      }
    }
  }
  for (const ref of collectRefs(doc)) {
    if (!resolvePointer(doc, ref)) problems.push(`unresolved $ref ${ref}`);
  }
  return problems;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function collectRefs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, found));
  else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') found.push(v);
      else collectRefs(v, found);
    }
  }
  return found;
}

function resolvePointer(doc: Json, ref: string): boolean {
  if (!ref.startsWith('#/')) return false;
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    if (!isObject(node)) return false;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node !== undefined;
}
