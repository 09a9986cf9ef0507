import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { startPodman, type PodmanEngine } from '../fixtures/podman.js';
import { connectClient, textOf, waitFor } from '../workloads/helpers.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

// `thv run <image>` end to end: the built CLI, its detached supervisor and a real Podman engine
// (test/fixtures/podman.ts), with the locally built test image.
const started = await startPodman();
if ('skip' in started) console.error(`container e2e tests skipped: ${started.skip}`);
const engine: PodmanEngine | undefined = 'engine' in started ? started.engine : undefined;

let home: TempHome;
const env = () => ({ ...engine!.env, TOOLHIVE_SECRETS_PROVIDER: 'environment' });

const urlIn = (stdout: string) => /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)?.[1] ?? '';

async function listJson(all = false): Promise<Array<{ name: string; status: string; status_context: string }>> {
  const result = await runThv(['list', '--format', 'json', ...(all ? ['--all'] : [])], home, { env: env() });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

async function containersOf(workload: string): Promise<Array<{ Id: string; State: string; Labels: Record<string, string> }>> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`toolhive-name=${workload}`] }));
  return (await engine!.api<Array<{ Id: string; State: string; Labels: Record<string, string> }>>('GET', `/v1.41/containers/json?all=true&filters=${filters}`)).json;
}

describe.runIf(engine)('thv run <image> on a real container engine', () => {
  beforeEach(async () => {
    home = await makeTempHome();
  });
  afterEach(async () => {
    const names = (await listJson(true)).map((w) => w.name);
    if (names.length) await runThv(['rm', ...names], home, { env: env() });
    await home.cleanup();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('serves tools through the bridge, shows in thv list, keeps secrets out of labels and argv, and stop/rm leave nothing', async () => {
    const secret = 'container-secret-value-4f1c';
    const run = await runThv(['run', engine!.image, '--name', 'ctr-e2e', '-e', 'PLAIN=visible', '--secret', 'api-token,target=API_TOKEN'], home, {
      env: { ...env(), 'TOOLHIVE_SECRET_api-token': secret },
      timeoutMs: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const url = urlIn(run.stdout);
    expect(url).toMatch(/\/mcp$/);

    const client = await connectClient(url);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via the bridge' } }))).toBe('via the bridge');
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'PLAIN' } }))).toBe('visible');
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'API_TOKEN' } }))).toBe(secret);
    // The default profile (none): no network interface but loopback.
    expect(textOf(await client.callTool({ name: 'interfaces', arguments: {} }))).toBe('["lo"]');
    await client.close();

    const list = await listJson();
    expect(list.find((w) => w.name === 'ctr-e2e')?.status).toBe('running');
    const [container] = await containersOf('ctr-e2e');
    expect(container?.State).toBe('running');
    expect(container?.Labels).toMatchObject({ toolhive: 'true', 'toolhive-name': 'ctr-e2e', 'toolhive-group': 'default' });
    expect(JSON.stringify(container?.Labels)).not.toContain(secret);
    // The container's command line and labels as the engine records them: no secret, no env value.
    const inspect = (await engine!.api<{ Args: string[]; Path: string; Config: { Cmd: string[] | null; Entrypoint: string[] | string | null; Labels: Record<string, string> } }>('GET', `/v1.41/containers/${container!.Id}/json`)).json;
    const recorded = JSON.stringify([inspect.Path, inspect.Args, inspect.Config.Cmd, inspect.Config.Entrypoint, inspect.Config.Labels]);
    expect(recorded).toContain('/app/server.mjs');
    expect(recorded).not.toContain(secret);
    expect(recorded).not.toContain('visible');
    const status = JSON.parse((await runThv(['status', 'ctr-e2e', '--format', 'json'], home, { env: env() })).stdout) as { process_id: number };
    const argv = await readFile(`/proc/${status.process_id}/cmdline`, 'utf8');
    expect(argv).not.toContain(secret);
    // The workload's log (the supervisor's and the server's output) exists, and no file thv wrote
    // (logs, run config, status) holds the secret.
    expect(await readFile(join(home.root, 'data/toolhive/logs/ctr-e2e.log'), 'utf8')).toContain('MCP server');
    const files = (await readdir(home.root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(await readFile(join(f.parentPath, f.name), 'utf8'), join(f.parentPath, f.name)).not.toContain(secret);

    expect((await runThv(['stop', 'ctr-e2e'], home, { env: env() })).code).toBe(0);
    expect(await containersOf('ctr-e2e')).toEqual([]);
    expect((await runThv(['rm', 'ctr-e2e'], home, { env: env() })).code).toBe(0);
    expect(await engine!.leftovers('ctr-e2e')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('a container removed behind thv\'s back shows in thv list, and the restart policy brings a new one', async () => {
    const run = await runThv(['run', engine!.image, '--name', 'ctr-gone'], home, { env: env(), timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    const [first] = await containersOf('ctr-gone');
    await engine!.api('DELETE', `/v1.41/containers/${first!.Id}?force=true`);
    const seen = await waitFor('the removal to show', async () => {
      const w = (await listJson()).find((x) => x.name === 'ctr-gone');
      return w && w.status !== 'running' ? w : w?.status_context.includes('restarted') ? w : undefined;
    }, 20_000);
    expect(seen.status === 'unhealthy' || seen.status_context.includes('restarted after a crash')).toBe(true);
    const second = await waitFor('a new container', async () => (await containersOf('ctr-gone')).find((c) => c.Id !== first!.Id && c.State === 'running'), 20_000);
    expect(second.Id).not.toBe(first!.Id);
  });

  it('a --volume :ro mount is readable and not writable inside; rw is writable', async () => {
    const ro = await mkdtemp(join(tmpdir(), 'thv-e2e-ro-'));
    const rw = await mkdtemp(join(tmpdir(), 'thv-e2e-rw-'));
    await writeFile(join(ro, 'data.txt'), 'host data');
    try {
      const run = await runThv(['run', engine!.image, '--name', 'ctr-vol', '--volume', `${ro}:/ro:ro`, '--volume', `${rw}:/rw`], home, { env: env(), timeoutMs: 60_000 });
      expect(run.code).toBe(0);
      const client = await connectClient(urlIn(run.stdout));
      expect(textOf(await client.callTool({ name: 'read_file', arguments: { path: '/ro/data.txt' } }))).toBe('host data');
      expect(textOf(await client.callTool({ name: 'write_file', arguments: { path: '/ro/new.txt', text: 'x' } }))).toBe('EROFS');
      expect(textOf(await client.callTool({ name: 'write_file', arguments: { path: '/rw/new.txt', text: 'from the container' } }))).toBe('ok');
      await client.close();
      expect(await readFile(join(rw, 'new.txt'), 'utf8')).toBe('from the container');
    } finally {
      await rm(ro, { recursive: true, force: true });
      await rm(rw, { recursive: true, force: true });
    }
  });

  it('a dangerous --volume is refused before anything is created', async () => {
    const run = await runThv(['run', engine!.image, '--name', 'ctr-etc', '--volume', '/etc:/host-etc:ro'], home, { env: env(), timeoutMs: 60_000 });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('refusing to mount /etc');
    expect(await engine!.leftovers('ctr-etc')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('an image that does not exist: a clear error naming it, a non-zero exit, nothing left behind', async () => {
    const image = 'localhost/thv-no-such-image:1';
    const run = await runThv(['run', image, '--name', 'ctr-missing'], home, { env: env(), timeoutMs: 60_000 });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`image ${image}`);
    expect(run.stdout).toBe('');
    expect(await listJson(true)).toEqual([]);
    expect(await engine!.leftovers('ctr-missing')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('an engine socket that is gone: thv run and thv runtime check fail clearly', async () => {
    const gone = { ...env(), TOOLHIVE_PODMAN_SOCKET: join(home.root, 'no-engine.sock') };
    const run = await runThv(['run', engine!.image, '--name', 'ctr-noengine'], home, { env: gone, timeoutMs: 60_000 });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('container runtime not available');
    expect(run.stderr).toContain(engine!.image);
    expect(await listJson(true)).toEqual([]);
    const check = await runThv(['runtime', 'check'], home, { env: gone });
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toContain('no such socket');
  });

  it('a streamable-HTTP image is served through thv\'s proxy from a port published on 127.0.0.1; inbound.allow_host is enforced; stop/rm leave nothing', async () => {
    const profile = join(home.root, 'inbound.json');
    await writeFile(profile, JSON.stringify({ network: { outbound: { insecure_allow_all: true }, inbound: { allow_host: ['localhost'] } } }));
    const run = await runThv(['run', engine!.image, '--name', 'ctr-http', '--transport', 'streamable-http', '--target-port', '8080', '--permission-profile', profile], home, { env: env(), timeoutMs: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const url = urlIn(run.stdout);
    expect(url).toMatch(/\/mcp$/);
    // Host 127.0.0.1 is not in allow_host: refused by thv before the container sees it.
    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('network.inbound.allow_host');
    const client = await connectClient(url.replace('127.0.0.1', 'localhost'));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'through the proxy' } }))).toBe('through the proxy');
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'MCP_TRANSPORT' } }))).toBe('streamable-http');
    await client.close();
    expect((await listJson()).find((w) => w.name === 'ctr-http')?.status).toBe('running');
    const [container] = await containersOf('ctr-http');
    const { json } = await engine!.api<{ HostConfig: { PortBindings: Record<string, Array<{ HostIp: string }>> } }>('GET', `/v1.41/containers/${container!.Id}/json`);
    expect(json.HostConfig.PortBindings['8080/tcp']?.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
    expect((await runThv(['stop', 'ctr-http'], home, { env: env() })).code).toBe(0);
    expect(await containersOf('ctr-http')).toEqual([]);
    expect((await runThv(['rm', 'ctr-http'], home, { env: env() })).code).toBe(0);
    expect(await engine!.leftovers('ctr-http')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('an SSE image under the none profile is served through thv\'s proxy and reaches nothing outside', async () => {
    const run = await runThv(['run', engine!.image, '--name', 'ctr-sse', '--transport', 'sse'], home, { env: env(), timeoutMs: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const url = urlIn(run.stdout);
    expect(url).toMatch(/\/sse#ctr-sse$/);
    const client = new Client({ name: 'thv-test', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(url)));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe('over sse');
    expect(textOf(await client.callTool({ name: 'connect', arguments: { host: '1.1.1.1', port: 80 } }))).not.toBe('ok');
    await client.close();
    expect((await runThv(['rm', 'ctr-sse'], home, { env: env() })).code).toBe(0);
    expect(await engine!.leftovers('ctr-sse')).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it('an HTTP container that crashes is restarted by the same policy and the proxy follows the new instance', async () => {
    const run = await runThv(['run', engine!.image, '--name', 'ctr-http-crash', '--transport', 'streamable-http'], home, { env: env(), timeoutMs: 90_000 });
    expect(run.code).toBe(0);
    const url = urlIn(run.stdout);
    const [first] = await containersOf('ctr-http-crash');
    const client = await connectClient(url);
    expect(textOf(await client.callTool({ name: 'crash', arguments: {} }))).toBe('crashing');
    await client.close();
    const second = await waitFor('a new container', async () => (await containersOf('ctr-http-crash')).find((c) => c.Id !== first!.Id && c.State === 'running'), 60_000);
    expect(second.Id).not.toBe(first!.Id);
    const answer = await waitFor('the restarted server to answer through the same URL', async () => {
      const again = await connectClient(url).catch(() => undefined);
      if (!again) return undefined;
      try {
        return textOf(await again.callTool({ name: 'echo', arguments: { text: 'after the crash' } }));
      } catch {
        return undefined;
      } finally {
        await again.close();
      }
    }, 60_000);
    expect(answer).toBe('after the crash');
    const w = (await listJson()).find((x) => x.name === 'ctr-http-crash');
    expect(w?.status).toBe('running');
    expect(w?.status_context).toContain('restarted after a crash');
  });

  it('thv build --dry-run prints the two-stage Dockerfile; --runtime-image sets the builder', async () => {
    const dry = await runThv(['build', 'npx://@scope/server@1.2.3', '--dry-run', '--runtime-image', 'mirror.local/node:22'], home, { env: env() });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^FROM mirror.local\/node:22 AS builder/);
    expect(dry.stdout).toContain('npm install --save @scope/server@1.2.3');
    expect(dry.stdout).toContain('ENTRYPOINT ["npx", "@scope/server"]');
    const bad = await runThv(['build', 'npx://bad;name', '--dry-run'], home, { env: env() });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('not a valid npx:// package reference');
  });

  it('thv runtime check reports the engine and its version (text and json)', async () => {
    const text = await runThv(['runtime', 'check'], home, { env: env() });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Podman Engine 4.`);
    expect(text.stdout).toContain(engine!.socketPath);
    const json = JSON.parse((await runThv(['runtime', 'check', '--format', 'json'], home, { env: env() })).stdout) as { available: boolean; engine: { kind: string; version: string; socket: string } };
    expect(json.available).toBe(true);
    expect(json.engine).toMatchObject({ kind: 'podman', socket: engine!.socketPath });
    expect(json.engine.version).toMatch(/^\d+\.\d+/);
  });
});
