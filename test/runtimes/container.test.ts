import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { ContainerRuntime } from '../../src/runtimes/container.js';
import type { LaunchSpec, ServerInstance } from '../../src/runtimes/types.js';
import { builtinProfile, parseProfile, type PermissionProfile } from '../../src/isolation/profile.js';
import { startPodman, type PodmanEngine } from '../fixtures/podman.js';

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
