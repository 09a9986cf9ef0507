import { parseGoDuration } from './duration.js';

/**
 * Every environment variable thv reads, read here and nowhere else (docs/architecture.md#environment-variables;
 * the README lists them). The environment is always a parameter (`ctx.env`, `deps.env`), so a test
 * or the API passes its own; lint refuses `process.env.X` and `TOOLHIVE_*`/`THV_*` names outside
 * this file.
 *
 * One rule for on/off variables: `1`, `true`, `yes`, `on` are on; `0`, `false`, `no`, `off`, the
 * empty string and an unset variable are off (trimmed, any case). Anything else is reported as a
 * warning and the default (off) is used. Durations are Go-style (`90s`, `10m`, `1h30m`); an invalid
 * one is reported the same way and its default used.
 */

export type Env = NodeJS.ProcessEnv;

/** How an invalid value is reported: the variable, the value given, what was expected. */
export type InvalidEnvValue = (name: string, value: string, expected: string) => void;

let reportInvalid: InvalidEnvValue = (name, value, expected) =>
  void process.stderr.write(`warn: ignoring ${name}=${JSON.stringify(value)}: expected ${expected}\n`);

/** Where invalid values are reported by default; src/core/log.ts routes them to the logger. */
export function setInvalidEnvReporter(report: InvalidEnvValue): void {
  reportInvalid = report;
}

export const ENV_VARS = [
  { name: 'TOOLHIVE_NON_INTERACTIVE', default: 'off', meaning: 'never prompt and never open a browser on its own (the REST API sets it for the workloads it starts); otherwise thv is interactive when stdin and stderr are terminals' },
  { name: 'TOOLHIVE_DEBUG', default: 'off', meaning: 'debug logs and stack traces on stderr, as `--debug`' },
  { name: 'THV_DEBUG', default: 'off', meaning: 'the same as `TOOLHIVE_DEBUG`' },
  { name: 'TOOLHIVE_LOG_LEVEL', default: 'warn', meaning: 'log level on stderr: `debug`, `info`, `warn`, `error` or `silent`' },
  { name: 'TOOLHIVE_SECRETS_PROVIDER', default: '`secrets.provider_type`, else `encrypted`', meaning: 'the secrets provider: `encrypted` or `environment`' },
  { name: 'TOOLHIVE_SECRETS_PASSWORD', default: 'the OS keyring, else a prompt', meaning: 'the password of the encrypted secrets store' },
  { name: 'TOOLHIVE_NO_KEYRING', default: 'off', meaning: 'do not use the OS keyring for the secrets password' },
  { name: 'TOOLHIVE_SECRET_<NAME>', default: '—', meaning: 'the value of secret `<NAME>` with the `environment` provider' },
  { name: 'THV_REGISTRY_TOKEN', default: '—', meaning: 'the registry bearer token (`registry_auth.bearer.token_env` names another variable)' },
  { name: 'TOOLHIVE_OAUTH_FLOW_TIMEOUT', default: '2m', meaning: 'how long a browser login may take' },
  { name: 'TOOLHIVE_CLIENT_METADATA_URL', default: '—', meaning: "the https:// URL of thv's published Client ID Metadata Document; remote OAuth uses it where the authorization server accepts such documents (docs/remote-auth.md)" },
  { name: 'TOOLHIVE_TOKEN_REFRESH_INITIAL_RETRY_INTERVAL', default: '10s', meaning: 'first wait before retrying a failed token refresh' },
  { name: 'TOOLHIVE_TOKEN_REFRESH_MAX_RETRY_INTERVAL', default: '2m', meaning: 'longest wait between refresh retries' },
  { name: 'TOOLHIVE_TOKEN_REFRESH_MAX_TRIES', default: '5', meaning: 'refresh attempts before the workload is `auth_retrying`' },
  { name: 'TOOLHIVE_TOKEN_REFRESH_MAX_ELAPSED_TIME', default: '5m', meaning: 'time spent retrying a refresh before the workload is `auth_retrying`' },
  { name: 'TOOLHIVE_TOKEN_AUTH_RETRYING_TICK_INTERVAL', default: '10m', meaning: 'how often an `auth_retrying` workload tries again' },
  { name: 'TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED', default: '24h', meaning: 'how long an `auth_retrying` workload keeps trying before it is `unauthenticated`' },
  { name: 'TOOLHIVE_STARTUP_GRACE', default: '2s', meaning: 'how long a stdio server must stay up on its first start before `thv run` reports it ready; `0` disables the wait' },
  { name: 'THV_BRIDGE_MAX_INFLIGHT', default: '4096', meaning: 'requests a stdio bridge has in flight towards its server, per protocol era; more get 503 (docs/workloads.md#limits)' },
  { name: 'THV_BRIDGE_MAX_SESSIONS', default: '4096', meaning: 'open 2025-era sessions of a stdio bridge; past it the longest-unused idle one makes room, else 503' },
  { name: 'THV_BRIDGE_MAX_BODY_BYTES', default: '4194304', meaning: 'bytes of one request body a stdio bridge accepts; more get 413' },
  { name: 'THV_BRIDGE_MAX_CONCURRENT_BODIES', default: '32', meaning: 'request bodies a stdio bridge reads at once; more get 503' },
  { name: 'TOOLHIVE_BWRAP', default: '`bwrap` on `PATH`', meaning: 'the bubblewrap program the sandbox runtime uses' },
  { name: 'TOOLHIVE_SANDBOX_MEMORY', default: 'none', meaning: 'memory limit of each process of a sandboxed server (`512m`, `1g`; RLIMIT_DATA, docs/isolation.md)' },
  { name: 'TOOLHIVE_SANDBOX_PIDS', default: 'none', meaning: 'process limit of a sandboxed server (`256`; RLIMIT_NPROC, not enforced for root)' },
  { name: 'TOOLHIVE_PODMAN_SOCKET', default: 'found', meaning: 'the Podman socket the container runtime uses (then no other is tried)' },
  { name: 'TOOLHIVE_DOCKER_SOCKET', default: 'found', meaning: 'the Docker socket the container runtime uses (then no other is tried)' },
  { name: 'TOOLHIVE_COLIMA_SOCKET', default: 'found', meaning: 'the Colima socket the container runtime uses (then no other is tried)' },
  { name: 'DOCKER_HOST', default: '—', meaning: 'a `unix://` Docker/Podman socket to try first' },
  { name: 'XDG_RUNTIME_DIR', default: '—', meaning: 'where the rootless Podman socket is looked for' },
  { name: 'TMPDIR', default: '—', meaning: 'where a Podman machine socket is looked for (macOS)' },
  { name: 'TOOLHIVE_CONTAINER_MEMORY', default: "the engine's", meaning: 'memory limit of every container (`512m`, `1g`)' },
  { name: 'TOOLHIVE_CONTAINER_CPUS', default: "the engine's", meaning: 'CPU limit of every container (`0.5`)' },
  { name: 'TOOLHIVE_CONTAINER_PIDS', default: "the engine's", meaning: 'process limit of every container (`256`)' },
  { name: 'HTTPS_PROXY', default: '—', meaning: 'your HTTP proxy for https (CONNECT); sandboxed servers reach allowed hosts through it, and npm/pip installs use it (`https_proxy` too)' },
  { name: 'HTTP_PROXY', default: '—', meaning: 'your HTTP proxy for plain http, and for https when `HTTPS_PROXY` is unset (`http_proxy` too)' },
  { name: 'NO_PROXY', default: '—', meaning: 'hosts reached without your proxy: `*`, `host`, `.domain`, `host:port`, comma-separated (`no_proxy` too)' },
  { name: 'BROWSER', default: 'the platform opener (`xdg-open`, `open`)', meaning: 'the command that opens login URLs' },
  { name: 'HOME', default: "the account's home", meaning: 'base of the XDG defaults below' },
  { name: 'XDG_CONFIG_HOME', default: '`~/.config`', meaning: 'config: `$XDG_CONFIG_HOME/toolhive/config.yaml` (an absolute path, else the default); also where Linux AI clients keep theirs' },
  { name: 'XDG_CACHE_HOME', default: '`~/.cache`', meaning: 'registry caches: `$XDG_CACHE_HOME/toolhive/cache`' },
  { name: 'XDG_DATA_HOME', default: '`~/.local/share`', meaning: 'the encrypted secrets, workload statuses and logs: `$XDG_DATA_HOME/toolhive`' },
  { name: 'XDG_STATE_HOME', default: '`~/.local/state`', meaning: 'run configs, groups and locks: `$XDG_STATE_HOME/toolhive`' },
  { name: 'USERPROFILE', default: "the account's home", meaning: "the home folder on Windows, for AI clients' config files" },
  { name: 'APPDATA', default: '`%USERPROFILE%\\AppData\\Roaming`', meaning: 'where Windows AI clients (VS Code, Claude Desktop, …) keep their config' },
  { name: 'LOCALAPPDATA', default: '`%USERPROFILE%\\AppData\\Local`', meaning: 'where some Windows AI clients keep their config' },
  { name: 'COLUMNS', default: 'whole lines', meaning: 'table width when stdout is not a terminal' },
  { name: 'CI', default: 'unset', meaning: '`true` drops the "run again with --debug" line after an unexpected error; any value but `0`/`false`/`no`/`off` means headless: remote OAuth logins print their URL and open no browser' },
  { name: 'DISPLAY', default: '—', meaning: 'with `WAYLAND_DISPLAY`: on Linux and BSD, neither set means headless (login URLs are printed, no browser opens)' },
  { name: 'WAYLAND_DISPLAY', default: '—', meaning: 'see `DISPLAY`' },
  { name: 'PATH', default: '—', meaning: 'where `npx`, `uvx` and other server launchers are found' },
  { name: 'PATHEXT', default: '`.EXE;.CMD;.BAT`', meaning: 'the extensions of executables, when finding launchers on Windows' },
  { name: 'DBUS_SESSION_BUS_ADDRESS', default: '—', meaning: 'the session bus of the OS keyring (Linux)' },
] as const;

type Documented = (typeof ENV_VARS)[number]['name'];

export type FlagVar = Extract<Documented, 'TOOLHIVE_NON_INTERACTIVE' | 'TOOLHIVE_DEBUG' | 'THV_DEBUG' | 'TOOLHIVE_NO_KEYRING'>;
export type DurationVar = Extract<Documented, `TOOLHIVE_${string}_TIMEOUT` | `TOOLHIVE_TOKEN_${string}` | 'TOOLHIVE_STARTUP_GRACE'>;
export type LimitVar = Extract<Documented, `THV_BRIDGE_${string}`>;
export type TextVar = Exclude<Documented, FlagVar | DurationVar | LimitVar | `${string}<NAME>`>;

const ON = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['', '0', 'false', 'no', 'off']);
const FLAG_VALUES = '1, true, yes or on (on), or 0, false, no, off or empty (off)';

/** An on/off variable, by the one rule above. */
export function envFlag(env: Env, name: FlagVar, onInvalid: InvalidEnvValue = reportInvalid): boolean {
  const raw = env[name];
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (ON.has(value)) return true;
  if (!OFF.has(value)) onInvalid(name, raw, FLAG_VALUES);
  return false;
}

/** A text variable; unset and empty are both "not given". */
export function envText(env: Env, name: TextVar): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A Go-style duration in ms; unset or empty is the default. `0` is allowed only where it means "off". */
export function envDuration(
  env: Env,
  name: DurationVar,
  defaultMs: number,
  options: { zeroAllowed?: boolean; onInvalid?: InvalidEnvValue } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defaultMs;
  const parsed = parseGoDuration(raw);
  if (parsed !== undefined && (parsed > 0 || (parsed === 0 && options.zeroAllowed))) return parsed;
  (options.onInvalid ?? reportInvalid)(name, raw, options.zeroAllowed ? 'a duration such as 500ms, 2s or 1m, or 0' : 'a duration such as 500ms, 2s or 1m');
  return defaultMs;
}

/** A whole number ≥ 1; unset or empty is the default. */
export function envCount(env: Env, name: 'TOOLHIVE_TOKEN_REFRESH_MAX_TRIES', defaultValue: number, onInvalid: InvalidEnvValue = reportInvalid): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defaultValue;
  if (/^\d+$/.test(raw.trim()) && Number(raw) >= 1) return Number(raw);
  onInvalid(name, raw, 'a whole number of at least 1');
  return defaultValue;
}

/** A positive whole number (a resource limit); undefined when unset, empty or invalid (then reported). */
export function envLimit(env: Env, name: LimitVar, onInvalid: InvalidEnvValue = reportInvalid): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw.trim());
  if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(value) && value > 0) return value;
  onInvalid(name, raw, 'a whole number of at least 1');
  return undefined;
}

/** A variable whose name the user chose in the config (`registry_auth.bearer.token_env`). */
export function envNamedInConfig(env: Env, name: string): string | undefined {
  return env[name];
}

export const DEFAULT_REGISTRY_TOKEN_VAR: TextVar = 'THV_REGISTRY_TOKEN';
const SECRET_PREFIX = 'TOOLHIVE_SECRET_';

/** `TOOLHIVE_SECRET_<NAME>`: how the `environment` secrets provider names secret NAME. */
export function secretVarName(secret: string): string {
  return `${SECRET_PREFIX}${secret}`;
}

/** The value of secret NAME in the `environment` provider. */
export function envSecret(env: Env, secret: string): string | undefined {
  return env[secretVarName(secret)];
}

/** The secret names present in the environment (`TOOLHIVE_SECRET_<NAME>` set, NAME non-empty), sorted. */
export function envSecretNames(env: Env): string[] {
  return Object.keys(env)
    .filter((key) => key.startsWith(SECRET_PREFIX) && key.length > SECRET_PREFIX.length && env[key] !== undefined)
    .map((key) => key.slice(SECRET_PREFIX.length))
    .sort();
}

/** thv's own credentials, which no child process (a browser, an MCP server) inherits. */
export function isThvCredentialVar(name: string): boolean {
  return name === 'TOOLHIVE_SECRETS_PASSWORD' || name === DEFAULT_REGISTRY_TOKEN_VAR || name.startsWith(SECRET_PREFIX);
}

/** The user's proxy settings (upper case wins over lower case, as curl's): raw values, parsed by the egress proxy. */
export function envProxies(env: Env): { http?: string; https?: string; noProxy?: string } {
  const pick = (upper: 'HTTP_PROXY' | 'HTTPS_PROXY' | 'NO_PROXY'): string | undefined => envText(env, upper) ?? (env[upper.toLowerCase()] || undefined);
  const http = pick('HTTP_PROXY');
  const https = pick('HTTPS_PROXY');
  const noProxy = pick('NO_PROXY');
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), ...(noProxy ? { noProxy } : {}) };
}

/** `COLUMNS` as a positive width, else undefined. */
export function envColumns(env: Env): number | undefined {
  const columns = Number(envText(env, 'COLUMNS'));
  return Number.isFinite(columns) && columns > 0 ? columns : undefined;
}

/** The log level the environment asks for (TOOLHIVE_DEBUG/THV_DEBUG win over TOOLHIVE_LOG_LEVEL). */
export function envLogLevel(env: Env, onInvalid: InvalidEnvValue = reportInvalid): 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  if (envFlag(env, 'TOOLHIVE_DEBUG', onInvalid) || envFlag(env, 'THV_DEBUG', onInvalid)) return 'debug';
  const level = envText(env, 'TOOLHIVE_LOG_LEVEL');
  if (level === undefined) return 'warn';
  if (level === 'debug' || level === 'info' || level === 'warn' || level === 'error' || level === 'silent') return level;
  onInvalid('TOOLHIVE_LOG_LEVEL', level, 'debug, info, warn, error or silent');
  return 'warn';
}
