import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { socketCandidates } from '../../src/runtimes/container/discovery.js';
import { demultiplex } from '../../src/runtimes/container/demux.js';
import { tarArchive } from '../../src/runtimes/container/tar.js';
import { localImageTag, parseSchemeRef, renderDockerfile } from '../../src/runtimes/container/templates.js';
import { checkMount, hostConfig, networkModeOf, parseMemory, profileBinds } from '../../src/runtimes/container/host-config.js';
import { containerEnv, deniesAllOutbound } from '../../src/runtimes/container.js';
import { inboundRefusal } from '../../src/runtimes/container/inbound.js';
import { pickRuntime } from '../../src/workloads/runtime-choice.js';
import { toRunRequest } from '../../src/api/workload-bodies.js';
import { buildRunConfig } from '../../src/workloads/run-request.js';
import { builtinProfile, parseProfile } from '../../src/isolation/profile.js';
import type { ResolvedSource } from '../../src/workloads/sources.js';

describe('engine discovery order (like ToolHive, plus DOCKER_HOST)', () => {
  it('an explicit TOOLHIVE_*_SOCKET is the only candidate, Podman first', async () => {
    const { candidates, explicit } = await socketCandidates({ TOOLHIVE_DOCKER_SOCKET: '/d.sock', TOOLHIVE_PODMAN_SOCKET: '/p.sock', HOME: '/home/u' });
    expect(explicit).toBe(true);
    expect(candidates).toEqual([{ path: '/p.sock', kind: 'podman', source: 'TOOLHIVE_PODMAN_SOCKET' }]);
  });

  it('then DOCKER_HOST=unix://, then Podman rootful/rootless, Docker, Docker Desktop, Rancher, OrbStack, Colima', async () => {
    const { candidates } = await socketCandidates({ DOCKER_HOST: 'unix:///custom/docker.sock', HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(candidates.map((c) => c.path)).toEqual([
      '/custom/docker.sock',
      '/var/run/podman/podman.sock',
      '/run/user/1000/podman/podman.sock',
      '/home/u/.local/share/containers/podman/machine/podman.sock',
      '/var/run/docker.sock',
      '/home/u/.docker/run/docker.sock',
      '/home/u/.docker/desktop/docker.sock',
      '/home/u/.rd/docker.sock',
      '/home/u/.orbstack/run/docker.sock',
      '/home/u/.colima/default/docker.sock',
    ]);
  });
});

describe('the attach stream', () => {
  it('stdout frames become a plain stream; stderr frames go aside, even when split across chunks', async () => {
    const frame = (kind: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = kind;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const all = Buffer.concat([frame(1, '{"a":1}\n'), frame(2, 'warning\n'), frame(1, '{"b":2}\n')]);
    const stderr: string[] = [];
    const out = demultiplex(Readable.from([all.subarray(0, 5), all.subarray(5, 21), all.subarray(21)]), (c) => stderr.push(c.toString()));
    let text = '';
    for await (const chunk of out) text += chunk;
    expect(text).toBe('{"a":1}\n{"b":2}\n');
    expect(stderr.join('')).toBe('warning\n');
  });
});

describe('build contexts and Dockerfiles', () => {
  it('a tar context holds the Dockerfile with a valid header checksum', () => {
    const tar = tarArchive([{ name: 'Dockerfile', content: 'FROM scratch\n' }]);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 10).toString()).toBe('Dockerfile');
    const stored = parseInt(tar.subarray(148, 154).toString(), 8);
    const copy = Buffer.from(tar.subarray(0, 512));
    copy.fill(' ', 148, 156);
    expect(copy.reduce((a, b) => a + b, 0)).toBe(stored);
    expect(tar.subarray(512, 525).toString()).toBe('FROM scratch\n');
  });

  it('npx:// and uvx:// and go:// render two-stage Dockerfiles that install at build time', () => {
    const npx = renderDockerfile(parseSchemeRef('npx://@scope/server@1.2.3')!);
    expect(npx).toMatch(/^FROM node:24-alpine AS builder/);
    expect(npx).toContain('npm install --save @scope/server@1.2.3');
    expect(npx).toContain('ENTRYPOINT ["npx", "@scope/server"]');
    expect(npx).toContain('USER appuser');
    const uvx = renderDockerfile(parseSchemeRef('uvx://mcp-server-fetch@0.6.2')!, { builderImage: 'mirror.local/python:3.12' });
    expect(uvx).toMatch(/^FROM mirror.local\/python:3.12 AS builder/);
    expect(uvx).toContain('uv tool install "mcp-server-fetch==0.6.2"');
    const go = renderDockerfile(parseSchemeRef('go://github.com/example/server@v1.0.0')!);
    expect(go).toContain('go install "github.com/example/server@v1.0.0"');
    expect(go).toContain('ENTRYPOINT ["/app/mcp-server"]');
  });

  it('package names that could reach the shell are refused', () => {
    expect(() => parseSchemeRef('npx://x;rm -rf /')).toThrow(/not a valid npx/);
    expect(() => parseSchemeRef('uvx://a$(id)')).toThrow(/not a valid uvx/);
    expect(parseSchemeRef('ghcr.io/x/y:1')).toBeUndefined();
  });

  it('tags are toolhivelocal/<scheme>-<pkg>:<timestamp>', () => {
    expect(localImageTag(parseSchemeRef('npx://@scope/Server@1')!, new Date('2026-11-30T08:09:10Z'))).toBe('toolhivelocal/npx-scope-server:20261130080910');
  });
});

describe('a profile in a container', () => {
  it('no privileges, every capability dropped, no-new-privileges, limits; privileged only when the profile says so', () => {
    const base = hostConfig({ profile: builtinProfile('none')!, networkMode: 'none', binds: [], limits: { memoryBytes: parseMemory('512m')!, cpus: 0.5, pids: 100 } });
    expect(base).toMatchObject({ NetworkMode: 'none', Privileged: false, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 512 * 1024 * 1024, NanoCpus: 500_000_000, PidsLimit: 100 });
    const privileged = hostConfig({ profile: { ...builtinProfile('none')!, privileged: true }, networkMode: 'none', binds: [], limits: {} });
    expect(privileged.Privileged).toBe(true);
  });

  it('system paths, engine sockets, relative paths and links into /etc are refused', async () => {
    await expect(checkMount({ source: '/', target: '/host', writable: false })).rejects.toThrow(/system path/);
    await expect(checkMount({ source: '/etc', target: '/e', writable: false })).rejects.toThrow(/system path/);
    await expect(checkMount({ source: '/proc/self', target: '/p', writable: false })).rejects.toThrow(/system path/);
    await expect(checkMount({ source: '/var/run/docker.sock', target: '/var/run/docker.sock', writable: true })).rejects.toThrow(/refusing/);
    const dir = await mkdtemp(join(tmpdir(), 'thv-mount-'));
    try {
      await symlink('/etc', join(dir, 'link'));
      await expect(checkMount({ source: join(dir, 'link'), target: '/data', writable: false })).rejects.toThrow(/\/etc is a system path/);
      await expect(checkMount({ source: dir, target: '/proc', writable: false })).rejects.toThrow(/belongs to the runtime/);
      await expect(checkMount({ source: dir, target: '/data', writable: true })).resolves.toMatchObject({ source: dir, target: '/data', writable: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('volume://<name> becomes a named-volume bind; other URIs and names an engine refuses are refused', async () => {
    expect(await profileBinds(parseProfile({ read: ['volume://cache:/cache'], write: ['volume://data-1:/data'] }))).toEqual(['cache:/cache:ro', 'data-1:/data:rw']);
    await expect(checkMount({ source: 'http://x', target: '/x', writable: false })).rejects.toThrow(/only host paths and volume:\/\/<name>/);
    await expect(checkMount({ source: 'volume://-bad', target: '/x', writable: false })).rejects.toThrow(/refusing/);
    await expect(checkMount({ source: 'volume://v', target: '/etc', writable: true })).rejects.toThrow(/belongs to the runtime/);
  });

  it('network.mode: bridge by default, none and host as ToolHive, anything else refused', () => {
    expect(networkModeOf(builtinProfile('none')!)).toBe('bridge');
    expect(networkModeOf(parseProfile({ network: { mode: 'host' } }))).toBe('host');
    expect(networkModeOf(parseProfile({ network: { mode: 'none' } }))).toBe('none');
    expect(() => networkModeOf(parseProfile({ network: { mode: 'container:other' } }))).toThrow(/not supported/);
    expect(hostConfig({ profile: builtinProfile('network')!, networkMode: 'bridge', binds: [], limits: {}, publish: { containerPort: 8080, hostPort: 41000 } }).PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }] });
  });

  it('network.inbound.allow_host admits only listed Host names (port ignored, .domain for subdomains); an empty list admits all', () => {
    const profile = parseProfile({ network: { inbound: { allow_host: ['localhost', '.example.com'] } } });
    expect(inboundRefusal(profile, 'localhost:8080')).toBeUndefined();
    expect(inboundRefusal(profile, 'mcp.example.com')).toBeUndefined();
    expect(inboundRefusal(profile, '127.0.0.1:8080')).toMatch(/not in the permission profile's network.inbound.allow_host/);
    expect(inboundRefusal(profile, 'evil.com:80')).toMatch(/not in/);
    expect(inboundRefusal(profile, undefined)).toMatch(/not in/);
    expect(inboundRefusal(builtinProfile('none')!, 'anything')).toBeUndefined();
  });

  it('outbound none means no network; host base variables stay outside, the user\'s do not', () => {
    expect(deniesAllOutbound(builtinProfile('none')!)).toBe(true);
    expect(deniesAllOutbound(builtinProfile('network')!)).toBe(false);
    expect(containerEnv({ PATH: '/usr/bin', HOME: '/root', API_KEY: 'k' }, { PATH: '/usr/bin', HOME: '/root' })).toEqual({ API_KEY: 'k' });
    expect(containerEnv({ PATH: '/custom' }, { PATH: '/usr/bin' })).toEqual({ PATH: '/custom' });
  });
});

describe('runtime selection (docs/runtimes.md)', () => {
  const source = (over: Partial<ResolvedSource>): ResolvedSource => ({ source: { kind: 'registry', ref: 'x' }, args: [], transport: 'stdio', headers: {}, suggestedName: 'x', ...over });
  const engine = (available: boolean) => async () => available;

  it('images need the container runtime; asking for another is refused naming the image', async () => {
    expect(await pickRuntime(undefined, source({ image: 'ghcr.io/a/b:1' }), engine(false))).toBe('container');
    await expect(pickRuntime('sandbox', source({ image: 'ghcr.io/a/b:1', source: { kind: 'image', ref: 'ghcr.io/a/b:1' } }), engine(true))).rejects.toThrow(/ghcr.io\/a\/b:1 is a container image/);
  });

  it('npm/PyPI registry entries use the container runtime when an engine answers, unless --runtime says otherwise', async () => {
    const npm = source({ buildRef: 'npx://pkg@1', command: '/usr/bin/npx' });
    expect(await pickRuntime(undefined, npm, engine(true))).toBe('container');
    expect(await pickRuntime(undefined, npm, engine(false))).toBeUndefined();
    expect(await pickRuntime('sandbox', npm, engine(true))).toBe('sandbox');
  });

  it('npx:// and commands keep the default; a command cannot run in a container', async () => {
    expect(await pickRuntime(undefined, source({ source: { kind: 'npx', ref: 'npx://p' }, buildRef: 'npx://p' }), engine(true))).toBeUndefined();
    await expect(pickRuntime('container', source({ source: { kind: 'command', ref: 'node s.js' }, command: 'node' }), engine(true))).rejects.toThrow(/host command cannot run/);
  });
});

describe('an HTTP image\'s transport and port (CLI and API)', () => {
  const image: ResolvedSource = { source: { kind: 'image', ref: 'localhost/x:1' }, args: [], image: 'localhost/x:1', imageArgs: [], transport: 'sse', headers: {}, suggestedName: 'x' };
  const base = { name: 'x', group: 'default', createdAt: '2026-11-30T00:00:00Z' };
  it('the API body\'s target_port and transport reach the run config; the printed endpoint follows the server\'s transport', () => {
    const req = toRunRequest({ image: 'localhost/x:1', transport: 'sse', target_port: 9000 } as Parameters<typeof toRunRequest>[0]);
    expect(req).toMatchObject({ targetPort: 9000, transport: 'sse' });
    const { config } = buildRunConfig({ ...req, runtime: 'container' }, image, base, []);
    expect(config).toMatchObject({ image: 'localhost/x:1', transport: 'sse', target_port: 9000, proxy_mode: 'sse' });
    const http = buildRunConfig({ runtime: 'container', targetPort: 8080 }, { ...image, transport: 'streamable-http' }, base, []).config;
    expect(http).toMatchObject({ transport: 'streamable-http', target_port: 8080, proxy_mode: 'streamable-http' });
    expect(() => buildRunConfig({ runtime: 'container', targetPort: 70000 }, image, base, [])).toThrow(/--target-port 70000 is not a port number/);
  });
});
