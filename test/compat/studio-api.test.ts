import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api/helpers.js';
import { STDIO_FIXTURE } from '../workloads/helpers.js';
import { SHARED_DATA } from './shared-data.js';

/**
 * ToolHive Studio's routes against ToolHive's own OpenAPI document: every response thv gives must
 * use a status the document lists for that route and match the document's schema for it
 * (docs/api.md#toolhive-studio). The document is read from the reference data, never copied.
 */
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
let doc: { paths: Record<string, Record<string, Operation>>; components: unknown };
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();
let api: TestApi;

beforeAll(async () => {
  doc = JSON.parse(await readFile(join(SHARED_DATA, 'toolhive-api', 'swagger.json'), 'utf8')) as typeof doc;
  ajv.addSchema({ $id: 'toolhive', components: doc.components });
  api = await startTestApi({ env: { TOOLHIVE_SECRETS_PASSWORD: 'studio-compat-password' } });
}, 60_000);
afterAll(async () => {
  for (const name of ['studio-a', 'studio-b']) await api?.send(`/api/v1beta/workloads/${name}`, { method: 'DELETE' });
  await api?.close();
});

/** The route's declared statuses and, for `status`, the schema compiled with its $refs resolved in the document. */
function contract(method: string, path: string, status: number): { statuses: string[]; validate?: ValidateFunction } {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not in ToolHive's document`);
  const response = operation.responses[String(status)];
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) return { statuses: Object.keys(operation.responses) };
  const key = `${method} ${path} ${status}`;
  if (!compiled.has(key)) {
    const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"toolhive#/components/')) as object;
    compiled.set(key, ajv.compile(rewritten));
  }
  return { statuses: Object.keys(operation.responses), validate: compiled.get(key)! };
}

async function check(method: string, template: string, path: string, expected: number, body?: unknown): Promise<unknown> {
  const res = await api.send(path, { method, ...(body !== undefined ? { body } : {}) });
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(expected);
  const { statuses, validate } = contract(method, template, res.status);
  expect(statuses, `${method} ${template} declares ${res.status}`).toContain(String(res.status));
  // thv's errors are `{code, message}` JSON (docs/api.md#errors) where ToolHive answers plain text:
  // for errors only the status is held to the document.
  if (validate && res.json !== undefined && res.status < 400) {
    const ok = validate(res.json);
    expect(ok ? [] : validate.errors, `${method} ${path} matches ToolHive's schema`).toEqual([]);
  }
  return res.json;
}

describe("ToolHive Studio's routes, validated against ToolHive's OpenAPI document", () => {
  it('system: health and version', async () => {
    await check('GET', '/health', '/health', 204);
    await check('GET', '/api/v1beta/version', '/api/v1beta/version', 200);
  });

  it('groups: create, list, get, delete', async () => {
    await check('POST', '/api/v1beta/groups', '/api/v1beta/groups', 201, { name: 'studio' });
    await check('POST', '/api/v1beta/groups', '/api/v1beta/groups', 409, { name: 'studio' });
    await check('GET', '/api/v1beta/groups', '/api/v1beta/groups', 200);
    await check('GET', '/api/v1beta/groups/{name}', '/api/v1beta/groups/studio', 200);
    await check('DELETE', '/api/v1beta/groups/{name}', '/api/v1beta/groups/studio', 204);
    await check('DELETE', '/api/v1beta/groups/{name}', '/api/v1beta/groups/studio', 404);
  });

  it('workloads: the whole life cycle Studio drives', async () => {
    const W = '/api/v1beta/workloads';
    const create = { name: 'studio-a', command: ['node', STDIO_FIXTURE], isolation: 'none', network_isolation: false, volumes: [], secrets: [], env_vars: {} };
    await check('POST', W, W, 201, create);
    await check('POST', W, W, 409, create);
    await check('POST', W, W, 400, { name: ['studio-a'], command: ['true'] });
    await check('GET', W, `${W}?all=true`, 200);
    await check('GET', W, `${W}?group=default`, 200);
    await check('GET', `${W}/{name}`, `${W}/studio-a`, 200);
    await check('GET', `${W}/{name}`, `${W}/nope`, 404);
    await check('GET', `${W}/{name}/status`, `${W}/studio-a/status`, 200);
    await check('GET', `${W}/{name}/export`, `${W}/studio-a/export`, 200);
    await check('GET', `${W}/{name}/logs`, `${W}/studio-a/logs`, 200);
    await check('GET', `${W}/{name}/proxy-logs`, `${W}/studio-a/proxy-logs`, 200);
    await check('POST', `${W}/{name}/stop`, `${W}/studio-a/stop`, 202);
    await check('POST', `${W}/{name}/restart`, `${W}/studio-a/restart`, 202);
    await check('POST', `${W}/stop`, `${W}/stop`, 202, { names: ['studio-a'] });
    await check('POST', `${W}/restart`, `${W}/restart`, 202, { group: 'default' });
    await check('POST', `${W}/stop`, `${W}/stop`, 400, {});
    await check('POST', `${W}/{name}/edit`, `${W}/studio-a/edit`, 200, { command: ['node', STDIO_FIXTURE], isolation: 'none', env_vars: { EDITED: '1' } });
    await check('DELETE', `${W}/{name}`, `${W}/studio-a`, 202);
    await check('DELETE', `${W}/{name}`, `${W}/studio-a`, 404);
  });

  it('registry: list, get, servers and one server', async () => {
    const R = '/api/v1beta/registry';
    const list = (await check('GET', R, R, 200)) as { registries: Array<{ type: string; source: string }> };
    // The built-in catalog is ToolHive's `default` type (its enum: file, url, api, default) with an empty source.
    expect(list.registries).toMatchObject([{ name: 'default', type: 'default', source: '' }]);
    const one = (await check('GET', `${R}/{name}`, `${R}/default`, 200)) as { type: string };
    expect(one.type).toBe('default');
    await check('GET', `${R}/{name}`, `${R}/other`, 404);
    const servers = (await check('GET', `${R}/{name}/servers`, `${R}/default/servers`, 200)) as { servers: Array<{ name: string }> };
    const first = servers.servers[0]!.name;
    await check('GET', `${R}/{name}/servers/{serverName}`, `${R}/default/servers/${encodeURIComponent(first)}`, 200);
  });

  it('secrets: provider setup, provider, keys', async () => {
    const S = '/api/v1beta/secrets';
    await check('POST', S, S, 400, { provider_type: 'no-such-provider' });
    await check('POST', S, S, 201, { provider_type: 'encrypted' });
    await check('GET', `${S}/default`, `${S}/default`, 200);
    await check('POST', `${S}/default/keys`, `${S}/default/keys`, 201, { key: 'STUDIO_KEY', value: 'v1' });
    await check('GET', `${S}/default/keys`, `${S}/default/keys`, 200);
    await check('PUT', `${S}/default/keys/{key}`, `${S}/default/keys/STUDIO_KEY`, 200, { value: 'v2' });
    await check('DELETE', `${S}/default/keys/{key}`, `${S}/default/keys/STUDIO_KEY`, 204);
    await check('DELETE', `${S}/default/keys/{key}`, `${S}/default/keys/STUDIO_KEY`, 404);
  });

  it('routes thv does not implement answer 501 {code, message}', async () => {
    const res = await api.send('/api/v1beta/skills');
    expect(res.status).toBe(501);
    expect(res.json).toMatchObject({ code: 'not_implemented', message: expect.any(String) });
  });
});
