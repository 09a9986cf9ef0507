import type { IncomingHttpHeaders } from 'node:http';
import { decodeHeaderValue } from './mcp-era.js';

/**
 * `Mcp-Param-*` headers of 2026-07-28 (docs/workloads.md#protocol-eras): a tool may mark properties of
 * its `inputSchema` with `x-mcp-header: <Name>`, and a client then mirrors those arguments of a
 * `tools/call` into `Mcp-Param-<Name>` headers so intermediaries can route on them. The server checks
 * that they agree with the body; a stdio child sees no headers, so the bridge does, with the schemas
 * it saw in the child's `tools/list` answers.
 */

export interface ParamDeclaration {
  /** Property names from the schema's root down to the marked property. */
  path: string[];
  header: string;
  type: string | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
/** Tools whose declarations are remembered at once (a child listing more is not followed further). */
const MAX_TOOLS = 10_000;

/** The `x-mcp-header` marks reachable from the root through `properties` only (where the revision allows them). */
export function paramDeclarations(inputSchema: unknown): ParamDeclaration[] {
  const found: ParamDeclaration[] = [];
  const walk = (node: unknown, path: string[], depth: number): void => {
    if (node === null || typeof node !== 'object' || depth > 32) return;
    const schema = node as Record<string, unknown>;
    const mark = schema['x-mcp-header'];
    if (path.length > 0 && typeof mark === 'string' && TOKEN.test(mark)) {
      found.push({ path, header: mark, type: typeof schema.type === 'string' ? schema.type : undefined });
    }
    const properties = schema.properties;
    if (properties === null || typeof properties !== 'object') return;
    for (const [key, child] of Object.entries(properties)) walk(child, [...path, key], depth + 1);
  };
  walk(inputSchema, [], 0);
  return found;
}

function at(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/**
 * The −32020 message when the `Mcp-Param-*` headers disagree with the call's arguments, else undefined.
 * An argument that is present (and not null) needs its header, whose value (Base64 sentinel decoded)
 * must equal it; numbers compare as numbers (`42.0` equals `42`). Headers for absent arguments are ignored.
 */
export function paramHeaderMismatch(declarations: ParamDeclaration[], args: unknown, headers: IncomingHttpHeaders): string | undefined {
  for (const declaration of declarations) {
    const value = at(args, declaration.path);
    const text = value === null || value === undefined ? undefined : asText(value);
    if (text === undefined) continue;
    const name = `Mcp-Param-${declaration.header}`;
    const raw = headers[name.toLowerCase()];
    const header = Array.isArray(raw) ? raw[0] : raw;
    const where = declaration.path.join('.');
    if (header === undefined) return `Bad Request: the body carries ${where}=${JSON.stringify(value)} but the ${name} header is absent`;
    const decoded = decodeHeaderValue(header.trim());
    if (decoded === undefined) return `Bad Request: the ${name} header carries an invalid Base64 sentinel value`;
    const equal = typeof value === 'number' && DECIMAL.test(decoded) ? Number(decoded) === value : decoded === text;
    if (!equal) return `Bad Request: the ${name} header decodes to ${JSON.stringify(decoded)} but the body carries ${where}=${JSON.stringify(value)}`;
  }
  return undefined;
}

/** The declarations of one child's tools, learnt from its `tools/list` answers; forgotten when the list changes. */
export class ToolParamHeaders {
  private readonly byTool = new Map<string, ParamDeclaration[]>();

  /** Reads one `tools/list` result (one page). */
  learn(result: unknown): void {
    const tools = (result as { tools?: unknown } | null)?.tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools as { name?: unknown; inputSchema?: unknown }[]) {
      if (typeof tool?.name !== 'string') continue;
      const declarations = paramDeclarations(tool.inputSchema);
      if (declarations.length > 0) {
        if (this.byTool.size >= MAX_TOOLS && !this.byTool.has(tool.name)) continue;
        this.byTool.set(tool.name, declarations);
      } else this.byTool.delete(tool.name);
    }
  }

  clear(): void {
    this.byTool.clear();
  }

  /** The −32020 message for a `tools/call` whose `Mcp-Param-*` headers disagree with its arguments. */
  check(msg: { method?: unknown; params?: unknown }, headers: IncomingHttpHeaders): string | undefined {
    if (msg.method !== 'tools/call' || this.byTool.size === 0) return undefined;
    const params = (msg.params ?? {}) as { name?: unknown; arguments?: unknown };
    const declarations = typeof params.name === 'string' ? this.byTool.get(params.name) : undefined;
    return declarations ? paramHeaderMismatch(declarations, params.arguments, headers) : undefined;
  }
}
