import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { ContainerRuntime } from '../../src/runtimes/container.js';
import type { LaunchSpec, ServerInstance } from '../../src/runtimes/types.js';
import { builtinProfile, parseProfile, type PermissionProfile } from '../../src/isolation/profile.js';
import { startPodman, type PodmanEngine } from '../fixtures/podman.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const textOf = (result: unknown) => ((result as { content?: Array<{ text?: string }> }).content?.[0]?.text ?? '');

// The container runtime against a real Podman engine (test/fixtures/podman.ts): what a server in a
// container sees and can reach, and what is left on the engine afterwards.
const started = await startPodman();
if ('skip' in started) console.error(`container runtime tests skipped: ${started.skip}`);
const engine: PodmanEngine | undefined = 'engine' in started ? started.engine : undefined;

const log = { warn: () => undefined, info: () => undefined };
afterAll(async () => {
  await engine?.stop();
});

/** A JSON-RPC client over an instance's stdin/stdout, as the bridge speaks to it. */
function rpc(instance: ServerInstance) {
  let buffer = '';
  let nextId = 1;
  type Message = { id?: number; result?: { tools?: Array<{ name: string }>; content?: Array<{ text: string }> } };
  const waiting = new Map<number, (msg: Message) => void>();
  instance.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const msg = JSON.parse(line) as Message;
      if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
    }
  });
  const call = (method: string, params: unknown = {}) =>
    new Promise<Message>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      instance.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  return {
    async init() {
      await call('initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } });
      instance.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    },
    call,
    async tool(name: string, args: Record<string, unknown> = {}): Promise<string> {
      const res = await call('tools/call', { name, arguments: args });
      return res.result?.content?.[0]?.text ?? '';
    },
  };
}

describe.runIf(engine)('container runtime on a real engine', () => {
  const env = () => ({ ...process.env, ...engine!.env });
  const spec = (workload: string, profile: PermissionProfile, extra: Partial<LaunchSpec> = {}): LaunchSpec => ({
    workload,
    args: [],
    image: engine!.image,
    env: { GREETING: 'hello' },
    transport: 'stdio',
    profile,
    labels: { 'toolhive-group': 'default' },
    ...extra,
  });

  it('a stdio server in a container answers tools/list and tools/call, and dispose leaves nothing', async () => {
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = spec('ctr-basic', builtinProfile('none')!);
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    const client = rpc(instance);
    await client.init();
    const list = await client.call('tools/list');
    expect(list.result?.tools?.map((t) => t.name)).toContain('echo');
    expect(await client.tool('echo', { text: 'through the engine' })).toBe('through the engine');
    expect(await client.tool('getenv', { name: 'GREETING' })).toBe('hello');
    // network none: only the loopback interface
    expect(await client.tool('interfaces')).toBe('["lo"]');
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    expect(await engine!.leftovers('ctr-basic')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('a read-only mount is readable and not writable; a write mount is writable', async () => {
    const ro = await mkdtemp(join(tmpdir(), 'thv-ro-'));
    const rw = await mkdtemp(join(tmpdir(), 'thv-rw-'));
    await writeFile(join(ro, 'in.txt'), 'from the host');
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = spec('ctr-mounts', parseProfile({ read: [`${ro}:/ro`], write: [`${rw}:/rw`] }));
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    const client = rpc(instance);
    await client.init();
    expect(await client.tool('read_file', { path: '/ro/in.txt' })).toBe('from the host');
    expect(await client.tool('write_file', { path: '/ro/out.txt', text: 'x' })).toBe('EROFS');
    expect(await client.tool('write_file', { path: '/rw/out.txt', text: 'written inside' })).toBe('ok');
    expect(await readFile(join(rw, 'out.txt'), 'utf8')).toBe('written inside');
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    await rm(ro, { recursive: true, force: true });
    await rm(rw, { recursive: true, force: true });
  });

  it('an allow-listed host is reachable through the egress proxy only: other ports and direct connections are not', async () => {
    const server = http.createServer((_req, res) => res.end('reached the host'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = spec('ctr-egress', parseProfile({ network: { outbound: { allow_host: ['127.0.0.1'], allow_port: [port] } } }));
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    const client = rpc(instance);
    await client.init();
    expect(await client.tool('proxy_get', { url: `http://127.0.0.1:${port}/` })).toBe('200 reached the host');
    expect(await client.tool('proxy_get', { url: `http://127.0.0.1:${port + 1}/` })).toMatch(/^403/);
    expect(await client.tool('connect', { host: '1.1.1.1', port: 80 })).not.toBe('ok');
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    server.close();
    expect(await engine!.leftovers('ctr-egress')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});

describe.runIf(engine)('SSE and streamable-HTTP servers in containers', () => {
  const env = () => ({ ...process.env, ...engine!.env });
  const httpSpec = (workload: string, profile: PermissionProfile, transport: 'sse' | 'streamable-http', targetPort?: number): LaunchSpec => ({
    workload,
    args: [],
    image: engine!.image,
    env: {},
    transport,
    ...(targetPort ? { targetPort } : {}),
    profile,
    labels: { 'toolhive-group': 'default' },
  });

  it('allow-all profile: the port is published on 127.0.0.1 only, and the URL answers MCP', async () => {
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = httpSpec('ctr-http-pub', builtinProfile('network')!, 'streamable-http', 8080);
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    expect(instance.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(instance.stdin).toBeUndefined();
    const client = new Client({ name: 't', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${instance.url}/mcp`)));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'published' } }))).toBe('published');
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'MCP_PORT' } }))).toBe('8080');
    await client.close();
    const { json } = await engine!.api<{ HostConfig: { PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> } }>('GET', `/v1.41/containers/${instance.containerId}/json`);
    expect(json.HostConfig.PortBindings['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: new URL(instance.url!).port }]);
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    expect(await engine!.leftovers('ctr-http-pub')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('none profile: an SSE server on an internal network answers at its container address and reaches nothing outside', async () => {
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = httpSpec('ctr-sse-int', builtinProfile('none')!, 'sse');
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    expect(instance.url).not.toMatch(/127\.0\.0\.1/);
    const client = new Client({ name: 't', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${instance.url}/sse`)));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe('over sse');
    expect(await client.callTool({ name: 'connect', arguments: { host: '1.1.1.1', port: 80 } }).then(textOf)).not.toBe('ok');
    await client.close();
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    expect(await engine!.leftovers('ctr-sse-int')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('a server that exits before it listens fails the launch with its exit code, and network mode none is refused for http', async () => {
    const runtime = new ContainerRuntime({ env: env(), log });
    const s = { ...httpSpec('ctr-http-dies', builtinProfile('network')!, 'streamable-http', 8080), command: '/bin/node', args: ['-e', 'process.exit(7)'] };
    await runtime.prepare(s, () => undefined);
    await expect(runtime.launch(s)).rejects.toThrow(/exited with code 7 before it answered on port/);
    await runtime.dispose();
    expect(await engine!.leftovers('ctr-http-dies')).toEqual({ containers: 0, networks: 0, volumes: 0 });
    const none = new ContainerRuntime({ env: env(), log });
    await expect(none.prepare(httpSpec('ctr-http-none', parseProfile({ network: { mode: 'none' } }), 'streamable-http', 8080), () => undefined)).rejects.toThrow(/network mode none would leave no way to reach it/);
  });
});

describe.runIf(engine)('named volumes and network modes', () => {
  const env = () => ({ ...process.env, ...engine!.env });
  it('volume://name is an engine volume that outlives the container, created with labels so the workload\'s removal takes it', async () => {
    const { removeWorkloadResources } = await import('../../src/runtimes/container/workload.js');
    const { findEngine } = await import('../../src/runtimes/container/discovery.js');
    const profile = parseProfile({ write: ['volume://thv-test-vol:/state'], network: { mode: 'none', outbound: { insecure_allow_all: true } } });
    const s: LaunchSpec = { workload: 'ctr-vol', args: [], image: engine!.image, env: {}, transport: 'stdio', profile };
    for (const step of ['write', 'read'] as const) {
      const runtime = new ContainerRuntime({ env: env(), log });
      await runtime.prepare(s, () => undefined);
      const instance = await runtime.launch(s);
      const client = rpc(instance);
      await client.init();
      if (step === 'write') expect(await client.tool('write_file', { path: '/state/kept.txt', text: 'kept' })).toBe('ok');
      else expect(await client.tool('read_file', { path: '/state/kept.txt' })).toBe('kept');
      // network.mode none wins over the allow-all outbound rule: loopback only.
      expect(await client.tool('interfaces')).toBe('["lo"]');
      instance.terminate();
      await instance.exited;
      await runtime.dispose();
    }
    expect(await engine!.leftovers('ctr-vol')).toEqual({ containers: 0, networks: 0, volumes: 1 });
    await removeWorkloadResources((await findEngine(env())).client, 'ctr-vol');
    expect(await engine!.leftovers('ctr-vol')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});

describe.runIf(engine)('image builds on a real engine (offline)', () => {
  it('a Dockerfile on a local base image is built through /build with a tar context and then runs', async () => {
    const { findEngine } = await import('../../src/runtimes/container/discovery.js');
    const { buildImage } = await import('../../src/runtimes/container/images.js');
    const { client } = await findEngine({ ...process.env, ...engine!.env });
    const tag = `localhost/thv-build-test:${Date.now()}`;
    const progress: string[] = [];
    const built = await buildImage(client, { tag, dockerfile: `FROM ${engine!.image}\nCOPY greeting.txt /app/greeting.txt\nENV GREETING=from-the-build\n`, files: [{ name: 'greeting.txt', content: 'built offline' }] }, (l) => progress.push(l));
    expect(built).toBe(tag);
    expect(progress.join('\n')).toMatch(/COPY greeting.txt/);
    const runtime = new ContainerRuntime({ env: { ...process.env, ...engine!.env }, log });
    const s: LaunchSpec = { workload: 'ctr-built', args: [], image: tag, env: {}, transport: 'stdio', profile: builtinProfile('none')! };
    await runtime.prepare(s, () => undefined);
    const instance = await runtime.launch(s);
    const client2 = rpc(instance);
    await client2.init();
    expect(await client2.tool('read_file', { path: '/app/greeting.txt' })).toBe('built offline');
    expect(await client2.tool('getenv', { name: 'GREETING' })).toBe('from-the-build');
    instance.terminate();
    await instance.exited;
    await runtime.dispose();
    await engine!.api('DELETE', `/v1.41/images/${encodeURIComponent(tag)}?force=true`);
  });
});
