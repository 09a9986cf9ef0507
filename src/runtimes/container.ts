import http from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { ThvError, isThvError } from '../core/errors.js';
import { EgressProxy, type EgressLogger } from '../isolation/egress-proxy.js';
import { summariseProfile, type PermissionProfile } from '../isolation/profile.js';
import { findEngine, ENGINE_HINT, type FoundEngine } from './container/discovery.js';
import { demultiplex } from './container/demux.js';
import { EngineHttpError, type EngineClient } from './container/engine.js';
import { hostConfig, networkModeOf, profileMountsChecked, volumeName, type ContainerLimits } from './container/host-config.js';
import { buildImage, ensureImage } from './container/images.js';
import { localImageTag, parseSchemeRef, renderDockerfile, type BuildScheme } from './container/templates.js';
import { LABEL_MANAGED, LABEL_NAME } from './container/workload.js';
import type { LaunchSpec, Runtime, ServerInstance } from './types.js';

/**
 * The container runtime (docs/runtimes.md): one container per server instance through a Docker
 * Engine API, stdio attached like a process's pipes, the permission profile as binds, capabilities
 * and an internal network whose only way out is thv's egress proxy.
 */
export interface ContainerRuntimeOptions {
  /** The environment engine discovery reads (TOOLHIVE_*_SOCKET, DOCKER_HOST, HOME, XDG_RUNTIME_DIR). */
  env: NodeJS.ProcessEnv;
  log: EgressLogger & { info?(obj: object, msg?: string): void };
  limits?: ContainerLimits;
  /** Builder base images per scheme (config / --runtime-image). */
  builderImages?: Partial<Record<BuildScheme, string>>;
  /** The server's stderr (frames of stream 2); default: this process's stderr (the workload log). */
  onStderr?: (chunk: Buffer) => void;
  /** thv's own endpoints, refused by the egress proxy whatever the profile says. */
  isThvEndpoint?: (address: string, port: number) => boolean;
  /** Seconds between the polite stop and the engine's SIGKILL. */
  stopTimeoutSec?: number;
  /** How long an SSE/streamable-HTTP server may take to answer on its port (default 60 s). */
  readyTimeoutMs?: number;
  now?: () => Date;
}


/** Host variables the supervisor passes to a process that mean nothing (or harm) inside an image. */
const HOST_ONLY_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TERM', 'LANG', 'LC_ALL', 'LC_CTYPE', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'SystemRoot', 'COMSPEC', 'PATHEXT', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE'];

/** No outbound network at all: the container gets none (stdio) or an internal network without a proxy (http). */
export function deniesAllOutbound(profile: PermissionProfile): boolean {
  const out = profile.network?.outbound ?? {};
  return !out.insecure_allow_all && !(out.allow_host?.length ?? 0) && !(out.allow_port?.length ?? 0);
}

export function containerName(workload: string): string {
  return `thv-${workload}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export function networkName(workload: string): string {
  return `thv-${workload}-internal`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/**
 * Where the container's network goes (docs/runtimes.md, "Networks"): `none`; the host's (profile
 * `network.mode: host`); a per-workload internal network whose only way out is the egress proxy;
 * or, for an SSE/streamable-HTTP server whose profile allows all outbound traffic, the engine's
 * bridge with the port published on 127.0.0.1 (engines do not publish ports of internal networks).
 */
type NetworkPlan = { kind: 'none' } | { kind: 'host' } | { kind: 'internal' } | { kind: 'published'; hostPort: number };

export class ContainerRuntime implements Runtime {
  readonly kind = 'container' as const;
  private engine: FoundEngine | undefined;
  private image: string | undefined;
  private binds: string[] = [];
  private plan: NetworkPlan = { kind: 'none' };
  /** The port an SSE/streamable-HTTP server listens on inside (MCP_PORT), fixed once per supervisor. */
  private targetPort: number | undefined;
  private network: { name: string; gateway: string } | undefined;
  private proxy: EgressProxy | undefined;
  private proxyUrl: string | undefined;
  private readonly containers = new Set<string>();
  private disposed = false;

  constructor(private readonly options: ContainerRuntimeOptions) {}

  async unavailable(): Promise<{ reason: string; hint: string } | undefined> {
    try {
      await this.client();
      return undefined;
    } catch (err) {
      if (isThvError(err)) return { reason: err.message, hint: err.hint ?? ENGINE_HINT };
      throw err;
    }
  }

  /** The engine this runtime talks to (found once). */
  async client(): Promise<EngineClient> {
    this.engine ??= await findEngine(this.options.env);
    return this.engine.client;
  }

  get engineDescription(): string | undefined {
    return this.engine ? `${this.engine.client.serverName ?? this.engine.kind} at ${this.engine.path}` : undefined;
  }

  async prepare(spec: LaunchSpec, onProgress: (line: string) => void): Promise<void> {
    const client = await this.client().catch((err: unknown) => {
      if (isThvError(err) && err.code === 'runtime_unavailable' && spec.image) {
        throw new ThvError('runtime_unavailable', `image ${spec.image} needs a container engine, and ${err.message}`, { cause: err, hint: err.hint ?? ENGINE_HINT });
      }
      throw err;
    });
    const ref = requireImage(spec);
    // Mount and network problems are the user's to fix: refuse before anything is pulled, built or created.
    const mounts = await profileMountsChecked(spec.profile);
    this.binds = mounts.map((m) => `${volumeName(m.source) ?? m.source}:${m.target}:${m.writable ? 'rw' : 'ro'}`);
    const mode = networkModeOf(spec.profile);
    const httpServer = spec.transport !== 'stdio';
    if (httpServer && mode === 'none') {
      throw new ThvError('bad_request', `${spec.workload} serves ${spec.transport}, and network mode none would leave no way to reach it`, { hint: 'Use network.mode bridge (the default) in the permission profile.' });
    }
    if (httpServer) this.targetPort = spec.targetPort ?? (await reservePort());
    const scheme = parseSchemeRef(ref);
    if (scheme) {
      const tag = localImageTag(scheme, (this.options.now ?? (() => new Date()))());
      const builderImage = this.options.builderImages?.[scheme.scheme];
      onProgress(`Building image ${tag} for ${ref}…`);
      this.image = await buildImage(client, { tag, dockerfile: renderDockerfile(scheme, builderImage ? { builderImage } : {}), labels: { [LABEL_MANAGED]: 'true' } }, onProgress);
      onProgress(`Built ${tag}`);
    } else {
      await ensureImage(client, ref, onProgress);
      this.image = ref;
    }
    await this.removeLeftovers(spec.workload);
    await this.createVolumes(client, spec.workload, mounts.map((m) => volumeName(m.source)).filter((v): v is string => v !== undefined));
    if (mode === 'none') this.plan = { kind: 'none' };
    else if (mode === 'host') this.plan = { kind: 'host' };
    else if (httpServer && spec.profile.network?.outbound?.insecure_allow_all) this.plan = { kind: 'published', hostPort: await reservePort() };
    else if (!httpServer && deniesAllOutbound(spec.profile)) this.plan = { kind: 'none' };
    else {
      await this.createNetwork(spec);
      this.plan = { kind: 'internal' };
    }
  }

  async launch(spec: LaunchSpec): Promise<ServerInstance> {
    if (this.disposed) throw new Error('the container runtime was disposed');
    const client = await this.client();
    const image = this.image ?? requireImage(spec);
    const name = containerName(spec.workload);
    // A previous instance (a crash the restart policy answers) leaves its stopped container.
    await this.removeContainer(name);
    const stdio = spec.transport === 'stdio';
    const plan = this.plan;
    const networkMode = plan.kind === 'internal' ? this.network!.name : plan.kind === 'published' ? 'bridge' : plan.kind;
    const targetPort = stdio ? undefined : (this.targetPort ?? spec.targetPort);
    if (!stdio && !targetPort) throw new ThvError('bad_request', `${spec.workload} serves ${spec.transport} but has no port inside its container`, { hint: 'Pass --target-port <port>.' });
    // ToolHive's variables for the server (MCP_TRANSPORT, MCP_PORT, FASTMCP_PORT, MCP_HOST); the user's win.
    const transportEnv: Record<string, string> = targetPort
      ? { MCP_TRANSPORT: spec.transport, MCP_PORT: String(targetPort), FASTMCP_PORT: String(targetPort), MCP_HOST: '0.0.0.0' }
      : { MCP_TRANSPORT: 'stdio' };
    const env = { ...transportEnv, ...containerEnv(spec.env, this.options.env) };
    const proxyEnv = this.proxyUrl ? proxyVariables(this.proxyUrl) : plan.kind === 'internal' && !deniesAllOutbound(spec.profile) ? await this.startProxy(spec.profile) : {};
    const labels: Record<string, string> = { ...spec.labels, [LABEL_MANAGED]: 'true', [LABEL_NAME]: spec.workload, 'toolhive-transport': spec.transport };
    const body: Record<string, unknown> = {
      Image: image,
      Env: Object.entries({ ...env, ...proxyEnv }).map(([k, v]) => `${k}=${v}`),
      Labels: labels,
      ...(spec.command ? { Entrypoint: [spec.command] } : {}),
      ...(spec.args.length ? { Cmd: spec.args } : {}),
      ...(spec.cwd ? { WorkingDir: spec.cwd } : {}),
      OpenStdin: stdio,
      StdinOnce: stdio,
      AttachStdin: stdio,
      AttachStdout: stdio,
      AttachStderr: stdio,
      Tty: false,
      ...(targetPort ? { ExposedPorts: { [`${targetPort}/tcp`]: {} } } : {}),
      HostConfig: hostConfig({
        profile: spec.profile,
        networkMode,
        binds: this.binds,
        limits: this.options.limits ?? {},
        ...(targetPort && plan.kind === 'published' ? { publish: { containerPort: targetPort, hostPort: plan.hostPort } } : {}),
      }),
    };
    let id: string;
    try {
      id = (await client.requestJson<{ Id: string }>('POST', '/containers/create', { query: { name }, body })).json.Id;
    } catch (err) {
      throw engineError(`creating the container for ${spec.workload} failed`, err);
    }
    this.containers.add(id);
    let stream: Duplex | undefined;
    try {
      if (stdio) stream = await client.attach(id);
      await client.request('POST', `/containers/${id}/start`).then((res) => res.resume());
      await this.bindProxy();
    } catch (err) {
      stream?.destroy();
      await this.removeContainer(id);
      throw engineError(`starting the container for ${spec.workload} failed`, err);
    }
    const exited = this.waitFor(id);
    const onStderr = this.options.onStderr ?? ((chunk: Buffer) => process.stderr.write(chunk));
    const instance: ServerInstance = {
      containerId: id,
      exited,
      terminate: () => void client.request('POST', `/containers/${id}/stop`, { query: { t: this.options.stopTimeoutSec ?? 5 }, timeoutMs: 0 }).then((r) => r.resume(), () => undefined),
      kill: () => void client.request('POST', `/containers/${id}/kill`, { query: { signal: 'SIGKILL' } }).then((r) => r.resume(), () => undefined),
    };
    if (stream) {
      const stdin = new PassThrough();
      stdin.pipe(stream);
      stream.on('error', () => undefined);
      instance.stdin = stdin;
      instance.stdout = demultiplex(stream, onStderr);
    }
    void exited.then(() => stream?.destroy());
    if (targetPort) {
      try {
        instance.url = await this.containerUrl(id, targetPort);
        await this.waitUntilAnswering(spec, instance.url, exited);
      } catch (err) {
        await this.removeContainer(id);
        throw err;
      }
    }
    return instance;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.engine) {
      for (const id of this.containers) await this.removeContainer(id);
      if (this.network) await this.engine.client.request('DELETE', `/networks/${encodeURIComponent(this.network.name)}`).then((r) => r.resume(), () => undefined);
    }
    await this.proxy?.close().catch(() => undefined);
  }

  describe(spec: LaunchSpec): string {
    const mode = (() => {
      try {
        return networkModeOf(spec.profile);
      } catch {
        return 'bridge';
      }
    })();
    const httpServer = spec.transport !== 'stdio';
    const network =
      mode === 'host'
        ? 'host network, outbound not enforced'
        : mode === 'none'
          ? 'no network'
          : httpServer && spec.profile.network?.outbound?.insecure_allow_all
            ? 'bridge network, port published on 127.0.0.1'
            : deniesAllOutbound(spec.profile)
              ? httpServer
                ? 'internal network, no way out'
                : 'no network'
              : 'internal network + egress proxy';
    return `container (${this.engineDescription ?? 'Docker Engine API'}; ${network}), profile ${summariseProfile(spec.profile)}`;
  }

  private async createNetwork(spec: LaunchSpec): Promise<void> {
    const client = await this.client();
    const name = networkName(spec.workload);
    await client.request('DELETE', `/networks/${encodeURIComponent(name)}`).then((r) => r.resume(), () => undefined);
    try {
      await client.requestJson('POST', '/networks/create', { body: { Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: { [LABEL_MANAGED]: 'true', [LABEL_NAME]: spec.workload } } });
      const { json } = await client.requestJson<{ IPAM?: { Config?: Array<{ Gateway?: string }> } }>('GET', `/networks/${encodeURIComponent(name)}`);
      const gateway = json.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
      if (!gateway) throw new Error(`the engine gave network ${name} no IPv4 gateway`);
      this.network = { name, gateway };
    } catch (err) {
      throw engineError(`creating the internal network for ${spec.workload} failed`, err);
    }
  }

  /**
   * The egress proxy listens on the internal network's gateway — the one host address a container on
   * an internal network can reach. The engine brings that address up only when the first container
   * joins, so the proxy starts right after that container (and keeps listening across restarts).
   */
  private async startProxy(profile: PermissionProfile): Promise<Record<string, string>> {
    const gateway = this.network!.gateway;
    const proxy = new EgressProxy({ profile, log: this.options.log, ...(this.options.isThvEndpoint ? { isThvEndpoint: this.options.isThvEndpoint } : {}) });
    this.proxy = proxy;
    const port = await reservePort();
    this.proxyUrl = `http://${gateway}:${port}`;
    this.pendingProxy = { proxy, host: gateway, port };
    return proxyVariables(this.proxyUrl);
  }

  private pendingProxy: { proxy: EgressProxy; host: string; port: number } | undefined;

  /** Binds the proxy once the gateway address exists (after the first container joined the network). */
  private async bindProxy(): Promise<void> {
    const pending = this.pendingProxy;
    if (!pending) return;
    this.pendingProxy = undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await pending.proxy.listen({ host: pending.host, port: pending.port });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private async waitFor(id: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const client = await this.client();
    try {
      const { json } = await client.requestJson<{ StatusCode?: number }>('POST', `/containers/${id}/wait`, { timeoutMs: 0 });
      const code = typeof json?.StatusCode === 'number' ? json.StatusCode : null;
      // The engine reports a signal death as 128+n, like a shell.
      return code !== null && code > 128 && code < 160 ? { code: null, signal: signalName(code - 128) } : { code, signal: null };
    } catch {
      return { code: null, signal: null };
    } finally {
      // A stopped container of a crashed instance is not kept: the next instance is a new one.
      void this.removeContainer(id);
    }
  }

  /** Named volumes the profile mounts: an absent one is created, labelled so `thv rm` removes it; existing ones are the user's. */
  private async createVolumes(client: EngineClient, workload: string, names: string[]): Promise<void> {
    for (const name of new Set(names)) {
      try {
        await client.requestJson('GET', `/volumes/${encodeURIComponent(name)}`);
      } catch (err) {
        if (!(err instanceof EngineHttpError && err.status === 404)) throw engineError(`looking up volume ${name} failed`, err);
        await client.requestJson('POST', '/volumes/create', { body: { Name: name, Labels: { [LABEL_MANAGED]: 'true', [LABEL_NAME]: workload } } }).catch((e: unknown) => {
          throw engineError(`creating volume ${name} failed`, e);
        });
      }
    }
  }

  /**
   * An SSE/streamable-HTTP server is ready once anything answers HTTP on its port (a 404 will do):
   * until then the supervisor would report a workload whose requests fail.
   */
  private async waitUntilAnswering(spec: LaunchSpec, url: string, exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>): Promise<void> {
    let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exited.then((e) => (gone = e));
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (await answersHttp(url)) return;
      if (gone) {
        throw new ThvError('workload_failed', `the MCP server in the container ${gone.signal ? `was killed by ${gone.signal}` : `exited with code ${gone.code}`} before it answered on port ${new URL(url).port}`, {
          hint: `See \`thv logs ${spec.workload}\` for its output.`,
        });
      }
      if (Date.now() > deadline) {
        const where = new URL(url).host;
        throw new ThvError('workload_failed', `the MCP server in the container did not answer at ${where} within ${Math.round((this.options.readyTimeoutMs ?? 60_000) / 1000)} s`, {
          hint:
            this.plan.kind === 'internal'
              ? `It must listen on 0.0.0.0:${this.targetPort} (MCP_PORT). thv reaches servers on an internal network at their container address, which an engine in a VM or a rootless one does not route: a profile with network.outbound.insecure_allow_all publishes the port on 127.0.0.1 instead (docs/runtimes.md).`
              : `It must listen on 0.0.0.0:${this.targetPort} (MCP_PORT); pass --target-port if it uses another port.`,
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async containerUrl(id: string, port: number): Promise<string> {
    if (this.plan.kind === 'published') return `http://127.0.0.1:${this.plan.hostPort}`;
    if (this.plan.kind === 'host') return `http://127.0.0.1:${port}`;
    const client = await this.client();
    const { json } = await client.requestJson<{ NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> } }>('GET', `/containers/${id}/json`);
    const address = Object.values(json.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress).find((a) => a);
    if (!address) throw new ThvError('workload_failed', 'the container has no address on its network');
    return `http://${address}:${port}`;
  }

  private async removeContainer(idOrName: string): Promise<void> {
    const client = this.engine?.client;
    if (!client) return;
    try {
      await client.request('DELETE', `/containers/${encodeURIComponent(idOrName)}`, { query: { force: true, v: true } }).then((r) => r.resume());
    } catch (err) {
      if (!(err instanceof EngineHttpError && (err.status === 404 || err.status === 409))) this.options.log.warn({ err: (err as Error).message }, 'could not remove a container');
    }
    this.containers.delete(idOrName);
  }

  /** Containers of this workload left by a supervisor that died without cleaning up. */
  private async removeLeftovers(workload: string): Promise<void> {
    const client = await this.client();
    const { json } = await client.requestJson<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: true, filters: JSON.stringify({ label: [`${LABEL_MANAGED}=true`, `${LABEL_NAME}=${workload}`] }) } });
    for (const c of json ?? []) await this.removeContainer(c.Id);
  }
}

function requireImage(spec: LaunchSpec): string {
  if (!spec.image) throw new ThvError('bad_request', `workload ${spec.workload} has no image to run in a container`, { hint: 'Run an image reference, an image-based registry entry, or an npx://, uvx:// or go:// package.' });
  return spec.image;
}

/** The server's variables for the image: the supervisor's own base variables (host PATH, HOME…) are left out. */
export function containerEnv(env: Record<string, string>, host: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (HOST_ONLY_ENV.includes(k) && host[k] === v) continue;
    out[k] = v;
  }
  return out;
}

/** Does anything answer HTTP at `url` (any status)? */
function answersHttp(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

function proxyVariables(url: string): Record<string, string> {
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: 'localhost,127.0.0.1', no_proxy: 'localhost,127.0.0.1' };
}

async function reservePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function engineError(what: string, err: unknown): Error {
  if (isThvError(err)) return err;
  if (err instanceof EngineHttpError) return new ThvError('workload_failed', `${what}: ${err.engineMessage}`, { cause: err });
  return new ThvError('workload_failed', `${what}: ${(err as Error).message}`, { cause: err });
}

const SIGNALS: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM', 6: 'SIGABRT', 11: 'SIGSEGV' };
function signalName(n: number): NodeJS.Signals | null {
  return SIGNALS[n] ?? null;
}
