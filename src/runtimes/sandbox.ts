import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import type { Paths } from '../core/paths.js';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ThvError } from '../core/errors.js';
import { EgressProxy, upstreamProxies, type EgressLogger, type Lookup } from '../isolation/egress-proxy.js';
import { profileMounts, summariseProfile, type Mount } from '../isolation/profile.js';
import { INIT_SCRIPT, PRELOAD_SCRIPT, SANDBOX_PROXY_PORT, SANDBOX_RUN_DIR, SANDBOX_UNDICI_DIR } from '../isolation/sandbox-scripts.js';
import { installPackage, packageLaunch, type InstalledPackage } from './packages.js';
import { spawnGroupLeader } from './process.js';
import type { LaunchSpec, Runtime, ServerInstance } from './types.js';
import { envProxies, envText } from '../core/env.js';
import { parseMemory } from './container/host-config.js';
import { readFileIfExists, writeFileAtomic } from '../core/files.js';

export interface SandboxOptions {
  /** Folders that must never exist inside: thv's config, state, data and cache folders (the secrets store lives there). */
  protectedDirs: string[];
  /** Where npm/PyPI packages are installed (`$XDG_DATA_HOME/toolhive/packages`). */
  packagesDir: string;
  /** Per-workload run folders (egress socket, init script); under the data folder so they are protected too. */
  runDir: string;
  /** The user's home: never mounted unless the profile grants it. */
  home?: string;
  /** The environment for installs (npm/uv): the supervisor's own, already scrubbed of secrets. */
  hostEnv: NodeJS.ProcessEnv;
  log: EgressLogger;
  isThvEndpoint?: (address: string, port: number) => boolean;
  lookup?: Lookup;
  /** The bwrap binary; found on PATH when not given. */
  bwrap?: string;
  /** Where a successful bwrap probe is remembered (under thv's cache folder); not remembered when unset. */
  probeCache?: string;
  /** Resource limits of each sandboxed server (TOOLHIVE_SANDBOX_MEMORY/_PIDS), applied with prlimit. */
  limits?: SandboxLimits;
  /** The Node binary that runs the in-sandbox forwarder (this process's by default). */
  node?: string;
}

/**
 * Limits set with setrlimit (prlimit(1), util-linux) on bwrap, inherited by everything in the sandbox
 * (docs/isolation.md, "Limits"): memory as RLIMIT_DATA — the heap and private mappings of each process;
 * RLIMIT_AS would stop Node, which reserves far more address space than it uses — and processes as
 * RLIMIT_NPROC. No CPU limit: that needs a cgroup v2 cpu controller delegated to the user.
 */
export interface SandboxLimits {
  memoryBytes?: number;
  pids?: number;
}

/** TOOLHIVE_SANDBOX_MEMORY (`512m`, `1g`) and TOOLHIVE_SANDBOX_PIDS (`256`); unset: no limit. */
export function sandboxLimits(env: NodeJS.ProcessEnv): SandboxLimits {
  const limits: SandboxLimits = {};
  const memory = parseMemory(envText(env, 'TOOLHIVE_SANDBOX_MEMORY'));
  if (memory) limits.memoryBytes = memory;
  const pidsText = envText(env, 'TOOLHIVE_SANDBOX_PIDS');
  if (pidsText !== undefined) {
    const pids = Number(pidsText);
    if (!Number.isInteger(pids) || pids < 1) throw new ThvError('bad_request', `invalid process limit TOOLHIVE_SANDBOX_PIDS="${pidsText}"`, { hint: 'Use a whole number such as 256.' });
    limits.pids = pids;
  }
  return limits;
}

interface Prepared {
  runDir: string;
  proxy: EgressProxy;
  pkg?: InstalledPackage;
}

/**
 * The 'sandbox' runtime (docs/isolation.md): each server instance runs under bubblewrap in a fresh
 * root holding only /usr, the command's runtime and files, and what the permission profile grants;
 * with its own user, pid, ipc, uts and network namespaces, no capabilities, and outbound traffic only
 * through the workload's egress proxy.
 */
export class SandboxRuntime implements Runtime {
  readonly kind = 'sandbox' as const;
  private prepared = new Map<string, Prepared>();
  private version: string | undefined;
  private checked: Promise<{ reason: string; hint: string } | undefined> | undefined;

  constructor(private readonly options: SandboxOptions) {}

  private bwrap(): string | undefined {
    if (this.options.bwrap) return this.options.bwrap;
    // TOOLHIVE_BWRAP names a bwrap outside PATH (docs/isolation.md).
    const named = envText(this.options.hostEnv, 'TOOLHIVE_BWRAP');
    if (named) return named;
    for (const dir of (envText(this.options.hostEnv, 'PATH') ?? '/usr/bin:/bin').split(':')) {
      if (dir && existsSync(join(dir, 'bwrap'))) return join(dir, 'bwrap');
    }
    return undefined;
  }

  unavailable(): Promise<{ reason: string; hint: string } | undefined> {
    this.checked ??= (async () => {
      const fallback = 'or run this server unconfined with --isolation none (not recommended)';
      if (process.platform !== 'linux') {
        return {
          reason: `the sandbox runtime needs Linux with bubblewrap; this is ${process.platform === 'darwin' ? 'macOS' : process.platform}`,
          hint: `Use --runtime container where a container engine is available, ${fallback}.`,
        };
      }
      const bwrap = this.bwrap();
      if (!bwrap || !existsSync(bwrap)) return { reason: 'bubblewrap (bwrap) is not installed', hint: `Install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap), ${fallback}.` };
      // A successful probe is remembered while nothing it depends on changes (docs/isolation.md,
      // "Start-up"): two process starts less for the CLI and again for the supervisor.
      const key = probeKey(bwrap);
      const cache = this.options.probeCache;
      const cached = cache ? await readProbeCache(cache) : undefined;
      if (cached && cached.key === key) {
        this.version = cached.version;
        return undefined;
      }
      const [probe, version] = await Promise.all([
        exec(bwrap, ['--unshare-all', '--die-with-parent', '--cap-drop', 'ALL', '--ro-bind', '/', '/', 'true']),
        exec(bwrap, ['--version']),
      ]);
      if (probe.code !== 0) {
        return {
          reason: `bubblewrap cannot create a sandbox here: ${probe.stderr.trim().split('\n')[0] || `exit code ${probe.code}`}`,
          hint: `Unprivileged user namespaces are refused (on Ubuntu 24.04+: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile allowing bwrap; in a container: allow user namespaces), ${fallback}.`,
        };
      }
      this.version = version.stdout.trim().replace(/^bubblewrap\s*/, '') || undefined;
      if (cache) await writeFileAtomic(cache, `${JSON.stringify({ key, ...(this.version ? { version: this.version } : {}) })}\n`).catch(() => undefined);
      return undefined;
    })();
    return this.checked;
  }

  /** Installs the npm/PyPI package a command runs (`npx -y pkg`, `uvx pkg`), if it does; idempotent. */
  async install(command: string, args: string[], onProgress: (line: string) => void): Promise<InstalledPackage | undefined> {
    const launch = packageLaunch(command, args);
    return launch ? installPackage(launch, command, this.options.packagesDir, hostEnvironment(this.options.hostEnv), onProgress) : undefined;
  }

  async prepare(spec: LaunchSpec, onProgress: (line: string) => void): Promise<void> {
    const problem = await this.unavailable();
    if (problem) throw new ThvError('runtime_unavailable', problem.reason, { hint: problem.hint });
    if (!spec.command) throw new ThvError('bad_request', `workload ${spec.workload} has no command to run in the sandbox`);
    if (spec.profile.privileged) throw new ThvError('bad_request', 'a privileged permission profile cannot run in the sandbox', { hint: 'Remove "privileged" from the profile.' });
    for (const mount of profileMounts(spec.profile)) this.checkMount(mount);
    const { memoryBytes, pids } = this.options.limits ?? {};
    if (memoryBytes || pids) onProgress(`sandbox limits: ${[...(memoryBytes ? [`memory ${Math.round(memoryBytes / 1024 ** 2)} MiB per process`] : []), ...(pids ? [`${pids} processes`] : [])].join(', ')}`);
    // The user's own proxy (HTTPS_PROXY…) carries what the profile allows (docs/isolation.md, "Your own proxy").
    const upstream = upstreamProxies(envProxies(this.options.hostEnv));
    const proxy = new EgressProxy({
      profile: spec.profile,
      log: this.options.log,
      ...(this.options.lookup ? { lookup: this.options.lookup } : {}),
      ...(this.options.isThvEndpoint ? { isThvEndpoint: this.options.isThvEndpoint } : {}),
      ...(upstream ? { upstream } : {}),
    });
    // The package check and the run folder (scripts, egress proxy) are independent: done at once.
    const [installed, made] = await Promise.allSettled([
      this.install(spec.command, spec.args, onProgress),
      this.makeRunDir(spec.workload).then(async (dir) => {
        const socket = join(dir, 'egress.sock');
        await Promise.all([
          writeFile(join(dir, 'init.mjs'), INIT_SCRIPT, { mode: 0o644 }),
          writeFile(join(dir, 'preload.cjs'), PRELOAD_SCRIPT, { mode: 0o644 }),
          // Connectable by the sandbox's user; the folder itself stays private on the host.
          proxy.listen({ path: socket }).then(() => chmod(socket, 0o666).catch(() => undefined)),
        ]);
        return dir;
      }),
    ]);
    if (installed.status === 'rejected' || made.status === 'rejected') {
      await proxy.close().catch(() => undefined);
      throw installed.status === 'rejected' ? installed.reason : (made as PromiseRejectedResult).reason;
    }
    const pkg = installed.value;
    const runDir = made.value;
    await this.prepared.get(spec.workload)?.proxy.close();
    this.prepared.set(spec.workload, { runDir, proxy, ...(pkg ? { pkg } : {}) });
  }

  /** A granted path must exist, and must not open thv's own folders (the secrets store, other workloads). */
  private checkMount(mount: Mount): void {
    if (!isAbsolute(mount.source)) throw new ThvError('bad_request', `the sandbox cannot mount ${mount.source}: only host paths are supported`, { hint: 'Use /host/path or /host/path:/path/inside.' });
    if (!existsSync(mount.source)) throw new ThvError('bad_request', `the permission profile grants ${mount.source}, which does not exist`, { hint: `Create it first, or remove it from the profile's ${mount.writable ? 'write' : 'read'} list.` });
    for (const dir of this.options.protectedDirs) {
      if (within(real(mount.source), real(dir)) || within(mount.source, dir)) {
        throw new ThvError('bad_request', `the permission profile grants ${mount.source}, which is inside thv's own folder ${dir}`, { hint: 'A server may never reach thv\'s secrets, configuration or other workloads; grant another folder.' });
      }
    }
  }

  private async makeRunDir(workload: string): Promise<string> {
    let dir = join(this.options.runDir, workload);
    // A unix socket path is limited to 107 bytes; fall back to a private temp folder.
    if (Buffer.byteLength(join(dir, 'egress.sock')) > 100) dir = join(tmpdir(), `thv-sandbox-${process.getuid?.() ?? 0}`, workload);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o711 });
    await chmod(dir, 0o711);
    return dir;
  }

  /** The bwrap command line for one instance (no environment values: those go in bwrap's environment). */
  buildArgs(spec: LaunchSpec): { args: string[]; env: Record<string, string> } {
    const prepared = this.prepared.get(spec.workload);
    if (!prepared) throw new Error(`sandbox for ${spec.workload} was not prepared`);
    const node = real(this.options.node ?? process.execPath);
    const args: string[] = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'thv-sandbox'];
    const bound: Mount[] = [];
    const roBind = (source: string, target = source) => {
      if (bound.some((m) => m.target === target)) return;
      args.push('--ro-bind', source, target);
      bound.push({ source, target, writable: false });
    };
    // The system: /usr and the merged-/usr links (or the directories on older layouts).
    roBind('/usr');
    for (const link of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
      if (!existsSync(link)) continue;
      if (lstatSync(link).isSymbolicLink()) args.push('--symlink', readlinkSync(link), link);
      else roBind(link);
    }
    // Only what programs need from /etc to start and verify TLS; no DNS configuration: names are
    // resolved by the egress proxy.
    for (const file of ['/etc/ssl', '/etc/ca-certificates', '/etc/pki', '/etc/alternatives', '/etc/localtime', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/ld.so.cache']) {
      if (existsSync(file)) roBind(file);
    }
    args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
    // The Node that runs the forwarder (and most servers), when it lives outside /usr.
    roBind(runtimePrefix(node));
    const env = this.sandboxEnv(spec);
    let command = spec.command!;
    let commandArgs = spec.args;
    if (prepared.pkg) {
      roBind(prepared.pkg.root);
      for (const dir of prepared.pkg.extraReadOnly) roBind(dir);
      // A local folder installed with npm is a symlink to that folder: it is mounted too.
      if (!within(prepared.pkg.command, prepared.pkg.root)) roBind(projectFolder(prepared.pkg.command, this.options.home));
      command = prepared.pkg.command;
      commandArgs = prepared.pkg.args;
    } else {
      const resolved = resolveCommand(command, spec.cwd, spec.env.PATH ?? this.options.hostEnv.PATH ?? '');
      if (resolved && !resolved.startsWith('/usr/')) roBind(runtimePrefix(resolved));
      // The server's own files: the project folder of each script argument, read-only (docs/isolation.md).
      for (const file of scriptArguments(resolved ? [resolved, ...commandArgs] : commandArgs, spec.cwd)) {
        roBind(projectFolder(file, this.options.home));
      }
    }
    // What the profile grants, in order; a write mount of the same path wins.
    for (const mount of profileMounts(spec.profile)) {
      args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.target);
      bound.push(mount);
    }
    // thv's own folders never exist inside, even when a granted folder contains them (a home folder).
    for (const dir of this.options.protectedDirs) {
      for (const mount of bound) {
        if (dir !== mount.source && within(dir, mount.source) && existsSync(dir)) args.push('--tmpfs', join(mount.target, relative(mount.source, dir)));
      }
    }
    args.push('--ro-bind', prepared.runDir, SANDBOX_RUN_DIR);
    const undici = undiciDir();
    if (undici) args.push('--ro-bind', undici, SANDBOX_UNDICI_DIR);
    const homeGranted = this.options.home && bound.some((m) => m.target === this.options.home || within(this.options.home!, m.target));
    if (!homeGranted) {
      args.push('--dir', '/tmp/home');
      env.HOME = '/tmp/home';
    }
    const cwd = spec.cwd && bound.some((m) => within(spec.cwd!, m.target)) ? spec.cwd : homeGranted ? this.options.home! : '/tmp/home';
    args.push('--chdir', cwd);
    const main = nodeMain(command, commandArgs, node, spec.cwd, spec.env.PATH ?? this.options.hostEnv.PATH ?? '');
    const init = [node, join(SANDBOX_RUN_DIR, 'init.mjs'), String(SANDBOX_PROXY_PORT), join(SANDBOX_RUN_DIR, 'egress.sock')];
    if (main) args.push('--', ...init, 'node-main', main.script, ...main.args);
    else args.push('--', ...init, 'spawn', command, ...commandArgs);
    return { args, env };
  }

  private sandboxEnv(spec: LaunchSpec): Record<string, string> {
    const proxy = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
    const env: Record<string, string> = { ...spec.env };
    delete env.NODE_OPTIONS;
    const nodeOptions = [spec.env.NODE_OPTIONS, `--require ${join(SANDBOX_RUN_DIR, 'preload.cjs')}`].filter(Boolean).join(' ');
    return {
      ...env,
      TMPDIR: '/tmp',
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      ALL_PROXY: proxy,
      NO_PROXY: '',
      no_proxy: '',
      THV_SANDBOX_NODE_OPTIONS: nodeOptions,
    };
  }

  async launch(spec: LaunchSpec): Promise<ServerInstance> {
    const bwrap = this.bwrap();
    if (!bwrap) throw new ThvError('runtime_unavailable', 'bubblewrap (bwrap) is not installed');
    if (!this.prepared.has(spec.workload)) await this.prepare(spec, () => undefined);
    const { args, env } = this.buildArgs(spec);
    // Environment values (secrets among them) go in bwrap's environment, which it hands to the
    // sandbox unchanged: never on a command line other processes can read.
    // bwrap does not forward signals: SIGTERM ends it, and --die-with-parent then ends the sandbox's
    // pid namespace, every process in it. The supervisor closes stdin first, which is how a stdio
    // server is asked to exit.
    const limits = this.limitArgs();
    if (!limits) return spawnGroupLeader(bwrap, args, { env }, (err) => new ThvError('workload_failed', `failed to start bubblewrap: ${err.message}`, { cause: err }));
    // prlimit sets the limits (soft and hard: the server cannot raise them) and execs bwrap in place.
    return spawnGroupLeader(limits.prlimit, [...limits.args, '--', bwrap, ...args], { env }, (err) =>
      err.code === 'ENOENT'
        ? new ThvError('runtime_unavailable', 'prlimit (util-linux) is needed for TOOLHIVE_SANDBOX_MEMORY/TOOLHIVE_SANDBOX_PIDS and was not found', { cause: err, hint: 'Install util-linux, or unset those variables.' })
        : new ThvError('workload_failed', `failed to start bubblewrap: ${err.message}`, { cause: err }),
    );
  }

  private limitArgs(): { prlimit: string; args: string[] } | undefined {
    const { memoryBytes, pids } = this.options.limits ?? {};
    if (!memoryBytes && !pids) return undefined;
    const args = [...(memoryBytes ? [`--data=${memoryBytes}`] : []), ...(pids ? [`--nproc=${pids}`] : [])];
    const path = envText(this.options.hostEnv, 'PATH') ?? '/usr/bin:/bin';
    const prlimit = ['/usr/bin', '/bin', ...path.split(':')].map((dir) => join(dir, 'prlimit')).find((file) => existsSync(file)) ?? 'prlimit';
    return { prlimit, args };
  }

  async dispose(): Promise<void> {
    const all = [...this.prepared.values()];
    this.prepared.clear();
    for (const p of all) {
      await p.proxy.close();
      await rm(p.runDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  describe(spec: LaunchSpec): string {
    const { memoryBytes, pids } = this.options.limits ?? {};
    const limits = [...(memoryBytes ? [`memory ${Math.round(memoryBytes / 1024 ** 2)} MiB per process`] : []), ...(pids ? [`${pids} processes`] : [])];
    return `sandbox (bubblewrap${this.version ? ` ${this.version}` : ''}), profile ${summariseProfile(spec.profile)}${limits.length ? `, limits: ${limits.join(', ')}` : ''}`;
  }
}

/** The environment for npm/uv installs: the host's minimal one (PATH, HOME, proxies, CA). */
function hostEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function exec(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0, stdout: String(stdout), stderr: String(stderr || (err?.message ?? '')) });
    });
  });
}

/**
 * What a bwrap probe's answer depends on: the binary, this user, this boot, and the kernel's
 * user-namespace switches (Debian's, the generic limit, Ubuntu's AppArmor restriction).
 */
function probeKey(bwrap: string): string {
  const parts: string[] = [String(process.getuid?.() ?? '')];
  try {
    const st = statSync(real(bwrap));
    parts.push(real(bwrap), String(st.ino), String(st.size), String(st.mtimeMs));
  } catch {
    parts.push(bwrap);
  }
  for (const file of ['/proc/sys/kernel/random/boot_id', '/proc/sys/kernel/unprivileged_userns_clone', '/proc/sys/user/max_user_namespaces', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns']) {
    try {
      parts.push(readFileSync(file, 'utf8').trim());
    } catch {
      parts.push('-');
    }
  }
  return parts.join('|');
}

async function readProbeCache(file: string): Promise<{ key: string; version?: string } | undefined> {
  try {
    const value = JSON.parse((await readFileIfExists(file)) ?? 'null') as { key?: unknown; version?: unknown } | null;
    if (!value || typeof value.key !== 'string') return undefined;
    return { key: value.key, ...(typeof value.version === 'string' ? { version: value.version } : {}) };
  } catch {
    return undefined;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

export function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** `/opt/node/bin/node` → `/opt/node`; anything else → its folder. */
function runtimePrefix(binary: string): string {
  const dir = dirname(binary);
  return basename(dir) === 'bin' ? dirname(dir) : dir;
}

function resolveCommand(command: string, cwd: string | undefined, path: string): string | undefined {
  if (command.includes('/')) return real(resolve(cwd ?? '/', command));
  for (const dir of path.split(':')) {
    if (dir && existsSync(join(dir, command))) return real(join(dir, command));
  }
  return undefined;
}

/** Arguments that name existing files (a script, a config): their project folders are mounted. */
function scriptArguments(args: string[], cwd: string | undefined): string[] {
  const files: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') || arg.length > 4096) continue;
    const path = resolve(cwd ?? '/', arg);
    if (path.startsWith('/usr/') || path === '/') continue;
    try {
      if (statSync(path).isFile()) files.push(real(path));
    } catch {
      // not a file: an ordinary argument
    }
  }
  return files;
}

/**
 * The nearest folder above `file` that looks like a project (package.json, pyproject.toml, .git…),
 * so a script finds its modules; never the home folder itself or anything above it, which would
 * expose ~/.ssh and the like — then just the script's own folder.
 */
export function projectFolder(file: string, home: string | undefined): string {
  const start = dirname(file);
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (home && within(home, dir)) break;
    if (['package.json', 'pyproject.toml', 'setup.py', 'requirements.txt', '.git'].some((m) => existsSync(join(dir, m)))) return dir;
  }
  return home && within(home, start) ? file : start;
}

function undiciDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('undici/package.json'));
  } catch {
    return undefined;
  }
}

/** The sandbox runtime of one thv process, with thv's folders protected (docs/isolation.md). */
export function createSandboxRuntime(ctx: { paths: Paths; env: NodeJS.ProcessEnv; log: EgressLogger; isThvEndpoint?: (address: string, port: number) => boolean }): SandboxRuntime {
  const home = envText(ctx.env, 'HOME') ?? homedir();
  return new SandboxRuntime({
    protectedDirs: [ctx.paths.configDir, ctx.paths.stateDir, ctx.paths.dataDir, dirname(ctx.paths.cacheDir)],
    packagesDir: join(ctx.paths.dataDir, 'packages'),
    runDir: join(ctx.paths.dataDir, 'run'),
    probeCache: join(ctx.paths.cacheDir, 'sandbox-probe.json'),
    limits: sandboxLimits(ctx.env),
    home,
    hostEnv: ctx.env,
    log: ctx.log,
    ...(ctx.isThvEndpoint ? { isThvEndpoint: ctx.isThvEndpoint } : {}),
  });
}

/**
 * When the server is a Node script run by the same Node as the forwarder (`node server.js …`, or an
 * npm bin whose shebang names node), the script to run in the forwarder's own process; else undefined.
 */
function nodeMain(command: string, args: string[], node: string, cwd: string | undefined, path: string): { script: string; args: string[] } | undefined {
  const resolved = resolveCommand(command, cwd, path);
  if (!resolved) return undefined;
  if (resolved === node) {
    const [script, ...rest] = args;
    if (!script || script.startsWith('-')) return undefined;
    return { script: resolve(cwd ?? '/', script), args: rest };
  }
  if (/\.(c|m)?js$/.test(resolved)) {
    try {
      const head = readFileSync(resolved, 'utf8').slice(0, 200);
      if (/^#!.*\bnode(\s|$)/.test(head)) return { script: resolved, args };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
