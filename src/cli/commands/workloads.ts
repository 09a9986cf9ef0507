import { isExposedHost } from '../../transport/mcp-guard.js';
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { badRequest } from '../../core/errors.js';
import { renderJson } from '../output.js';
import { renderWorkloadList } from '../list-output.js';
import type { WorkloadManager, RunRequest } from '../../workloads/manager.js';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { credentialFiles, credentialText, parseEnvFlags, parseHeaderFile, parseHeaderFlags, parseSecretFlag, parseVolumeFlag, STDIN } from '../run-flags.js';
import { formatOption, groupOption, portOption, scopesOption, type OutputFormat } from '../options.js';
import type { WorkloadInfo } from '../../workloads/types.js';
import { isSecretHeader } from '../../workloads/run-request.js';
import { parseRuntimeFlags } from '../isolation-flags.js';
import { loadProfileArgument } from '../../isolation/profile-file.js';

function manager(ctx: CliContext): Promise<WorkloadManager> {
  return ctx.app.workloads();
}

interface RunOptions {
  name?: string;
  group: string;
  transport?: 'stdio' | 'sse' | 'streamable-http';
  proxyPort?: number;
  targetPort?: number;
  host: string;
  env: string[];
  secret: string[];
  remoteHeader: string[];
  remoteHeaderFile: string[];
  foreground?: boolean;
  runtimeImage?: string;
  volume: string[];
  remoteAuth?: boolean;
  allowInsecureHttp?: boolean;
  remoteAuthIssuer?: string;
  remoteAuthClientId?: string;
  remoteAuthClientSecret?: string;
  remoteAuthClientSecretFile?: string;
  remoteAuthScopes?: string[];
  remoteAuthResource?: string;
  remoteAuthCallbackPort?: number;
  remoteAuthSkipBrowser?: boolean;
  remoteAuthTimeout?: string;
  remoteAuthBearerToken?: string;
  remoteAuthBearerTokenFile?: string;
  runtime?: string;
  isolation?: string;
  permissionProfile?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerWorkloadCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('Run an MCP server: a registry name, npx://pkg[@ver], uvx://pkg[@ver], an http(s):// URL, or -- <command> [args]')
    .argument('[target]', 'registry name, npx://…, uvx://… or URL')
    .argument('[args...]', 'arguments for the server (after --)')
    .option('--name <name>', 'workload name (derived from the target when not given)')
    .addOption(groupOption('--group <group>', 'group of the workload', 'default'))
    .addOption(new Option('--transport <transport>', 'stdio servers: endpoint to print (both are served); images and remotes: the transport the server speaks').choices(['stdio', 'sse', 'streamable-http']))
    .addOption(portOption('--target-port <port>', 'container runtime: the port an SSE/streamable-HTTP server listens on inside (MCP_PORT; a free one when not given)'))
    .addOption(portOption('--proxy-port <port>', 'port for clients (a free one when not given)'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-e, --env <K=V>', 'environment variable for the server, stored as given (repeatable; use --secret for secrets)', collect, [])
    .option('--secret <NAME,target=ENV>', 'secret from the secrets store as an environment variable (repeatable)', collect, [])
    .option('--remote-header <Name: value>', 'header sent to a remote server with every request (repeatable; credential values are kept in the secrets store)', collect, [])
    .option('--remote-header-file <file>', 'file of "Name: value" lines (- for stdin), read once and sent like --remote-header (repeatable)', collect, [])
    .option('--foreground', 'run in this process instead of a detached supervisor')
    .option('--runtime <runtime>', 'how a local server runs: sandbox (default on Linux), none (unconfined), container')
    .option('--isolation <none>', 'alias of --runtime: --isolation none runs the server unconfined')
    .option('--permission-profile <profile>', 'none, network, or a JSON/YAML permission profile file (docs/isolation.md)')
    .option('--runtime-image <image>', 'container runtime: builder base image for npx://, uvx://, go://')
    .option('-v, --volume <host:container[:ro]>', 'container runtime: mount a host path (repeatable; read-write unless :ro)', collect, [])
    .option('--remote-auth', 'authenticate to the remote server with OAuth')
    .option('--remote-auth-issuer <url>', 'OAuth issuer of the remote server')
    .option('--remote-auth-client-id <id>', 'OAuth client id')
    .option('--remote-auth-client-secret <secret>', 'OAuth client secret (kept in the secrets store)')
    .option('--remote-auth-client-secret-file <file>', 'file holding the OAuth client secret, read at every start (- for stdin: read once, kept in the secrets store)')
    .addOption(scopesOption('--remote-auth-scopes <scopes>', 'comma-separated OAuth scopes'))
    .option('--remote-auth-resource <uri>', 'RFC 8707 resource indicator')
    .addOption(portOption('--remote-auth-callback-port <port>', 'port of the OAuth callback', { default: 8666 }))
    .option('--remote-auth-skip-browser', 'print the authorization URL instead of opening a browser')
    .option('--remote-auth-timeout <duration>', 'how long to wait for the browser flow')
    .option('--remote-auth-bearer-token <token>', 'static bearer token (kept in the secrets store)')
    .option('--remote-auth-bearer-token-file <file>', 'file holding a static bearer token, read at every start (- for stdin: read once, kept in the secrets store)')
    .option('--allow-insecure-http', 'send credentials to a plain http:// remote that is not on this machine')
    .action(async (target: string | undefined, args: string[], opts: RunOptions, cmd: Command) => {
      const { target: realTarget, command } = splitCommandLine(cmd, target, args);
      // The -file forms keep credentials off argv; `-` reads stdin (docs/remote-auth.md#credentials-on-the-command-line).
      const fromFiles = await failedTo('run the workload', () => readCredentialFlags(opts));
      const req: RunRequest = {
        ...(realTarget !== undefined ? { target: realTarget } : {}),
        command,
        group: opts.group,
        host: opts.host,
        // Inside failedTo, like the service's own refusals: "failed to run the workload: …".
        ...(await failedTo('run the workload', async () => ({
          env: parseEnvFlags(opts.env),
          secrets: opts.secret.map(parseSecretFlag),
          headers: { ...parseHeaderFlags(opts.remoteHeader), ...fromFiles.headers },
          ...(opts.volume.length ? { volumes: opts.volume.map(parseVolumeFlag) } : {}),
        }))),
        cwd: process.cwd(),
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.transport ? { transport: opts.transport } : {}),
        ...(opts.proxyPort !== undefined ? { proxyPort: opts.proxyPort } : {}),
        ...(opts.targetPort !== undefined ? { targetPort: opts.targetPort } : {}),
        ...(opts.runtimeImage ? { runtimeImage: opts.runtimeImage } : {}),
        ...(opts.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
        onProgress: (line) => ctx.err(`${line}\n`),
      };
      const remoteAuth = remoteAuthInput(opts, cmd, fromFiles);
      if (remoteAuth) req.remoteAuth = remoteAuth;
      const runtime = parseRuntimeFlags(opts);
      if (runtime) req.runtime = runtime;
      if (opts.permissionProfile !== undefined) req.permissionProfile = await loadProfileArgument(opts.permissionProfile);
      // Values on argv are visible to every local user (ps, /proc/<pid>/cmdline): docs/remote-auth.md#url-credentials.
      const onArgv = [
        ...(opts.remoteAuthBearerToken ? ['--remote-auth-bearer-token (use --remote-auth-bearer-token-file)'] : []),
        ...(opts.remoteAuthClientSecret ? ['--remote-auth-client-secret (use --remote-auth-client-secret-file)'] : []),
        ...(opts.remoteHeader.some((h) => isSecretHeader(/^[^\s:=]*/.exec(h)![0])) ? ['--remote-header with a credential (use --remote-header-file)'] : []),
      ];
      for (const flag of onArgv) ctx.err(`Warning: the value of ${flag} is on the command line, where other local users can read it (ps).\n`);
      if (isExposedHost(opts.host)) {
        // docs/workloads.md#who-may-call-a-workload
        ctx.err(`Warning: the MCP endpoint has no authentication; listening on ${opts.host} exposes the server (and, for a remote, your credentials) to every machine that can reach that address. Host and Origin checks still refuse web pages.\n`);
      }
      const workloads = await manager(ctx);
      if (opts.foreground) {
        await failedTo('run the workload', () => runForeground(ctx, workloads, req));
        return;
      }
      const started = await failedTo('run the workload', () => workloads.run(req));
      for (const warning of started.warnings) ctx.err(`Warning: ${warning}\n`);
      await failedTo('run the workload', () => untilRunning(ctx, workloads, started.name));
      ctx.out(`MCP server "${started.name}" is running at ${started.url}\n`);
    });

  program
    .command('list')
    .alias('ls')
    .description('List workloads (running and failed; --all adds stopped ones)')
    .option('-a, --all', 'include stopped workloads')
    .addOption(groupOption('--group <group>', 'only workloads of this group'))
    .addOption(formatOption())
    .action(async (opts: { all?: boolean; group?: string; format: OutputFormat }) => {
      const workloads = await manager(ctx);
      const list = await failedTo('list workloads', () => workloads.list({ all: Boolean(opts.all), ...(opts.group ? { group: opts.group } : {}) }));
      ctx.out(renderWorkloadList(list, { all: Boolean(opts.all), format: opts.format }, ctx.columns));
    });

  program
    .command('status')
    .description('Show the status of a workload')
    .argument('<name>')
    .addOption(formatOption())
    .action(async (name: string, opts: { format: OutputFormat }) => {
      const workloads = await manager(ctx);
      const info = await failedTo('get the workload status', () => workloads.status(name));
      ctx.out(opts.format === 'json' ? renderJson(info) : describeWorkload(info));
    });

  program
    .command('stop')
    .description('Stop a workload, or all of them')
    .argument('[name]')
    .option('-a, --all', 'stop every running workload')
    .addOption(groupOption('--group <group>', 'with --all: only this group'))
    .action(async (name: string | undefined, opts: { all?: boolean; group?: string }) => {
      const workloads = await manager(ctx);
      if (opts.all) {
        const stopped = await failedTo('stop workloads', () => workloads.stopAll(opts.group));
        ctx.out(stopped.length ? stopped.map((n) => `Stopped ${n}\n`).join('') : 'No workloads were running\n');
        return;
      }
      if (!name) throw usage('give a workload name or --all', 'stop');
      const { wasRunning } = await failedTo(`stop ${name}`, () => workloads.stop(name));
      ctx.out(wasRunning ? `Stopped ${name}\n` : `${name} was not running\n`);
    });

  for (const verb of ['start', 'restart'] as const) {
    program
      .command(verb)
      .description(verb === 'start' ? 'Start a stopped workload' : 'Stop and start a workload')
      .argument('<name>')
      .action(async (name: string) => {
        const workloads = await manager(ctx);
        const started = await failedTo(`${verb} ${name}`, () => (verb === 'start' ? workloads.start(name) : workloads.restart(name).then((r) => ({ ...r, alreadyRunning: false }))));
        if (!started.alreadyRunning) await failedTo(`${verb} ${name}`, () => untilRunning(ctx, workloads, name));
        ctx.out(started.alreadyRunning ? `${name} is already running at ${started.url}\n` : `MCP server "${name}" is running at ${started.url}\n`);
      });
  }

  program
    .command('rm')
    .description('Stop a workload and delete its configuration, status and logs')
    .argument('<names...>')
    .action(async (names: string[]) => {
      const workloads = await manager(ctx);
      for (const name of names) {
        await failedTo(`remove ${name}`, () => workloads.remove(name));
        ctx.out(`Removed ${name}\n`);
      }
    });

  program
    .command('logs')
    .description('Print the log of a workload')
    .argument('<name>')
    .option('-f, --follow', 'keep printing new lines')
    .action(async (name: string, opts: { follow?: boolean }) => {
      const workloads = await manager(ctx);
      await failedTo(`read the logs of ${name}`, () => workloads.runConfigs.get(name));
      const { printLog } = await import('../../workloads/logs.js');
      await printLog(workloads.logFile(name), { follow: Boolean(opts.follow), write: ctx.out });
    });

}

/** A remote OAuth login runs in the supervisor after the start; its URL goes to stderr at once. */
async function untilRunning(ctx: CliContext, workloads: WorkloadManager, name: string): Promise<void> {
  await workloads.waitUntilRunning(name, { onLoginRequired: (context) => ctx.err(`${context}\n`) });
}

async function runForeground(ctx: CliContext, workloads: WorkloadManager, req: RunRequest): Promise<void> {
  const warnings: string[] = [];
  const config = await workloads.create(req, warnings);
  for (const warning of warnings) ctx.err(`Warning: ${warning}\n`);
  const { log } = await import('../../core/log.js');
  const supervisor = await workloads.startInProcess(config.name, log());
  ctx.out(`MCP server "${config.name}" is running at ${supervisor.url} (press Ctrl+C to stop)\n`);
  const stop = () => void supervisor.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await supervisor.done;
}

/**
 * `thv run -- node server.js` has no target: everything after `--` is the command. `thv run
 * npx://pkg -- --flag` has one, and the rest are arguments. Commander merges both into operands, so
 * the raw arguments tell where `--` was.
 */
function splitCommandLine(cmd: Command, target: string | undefined, args: string[]): { target: string | undefined; command: string[] } {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const dashes = raw.indexOf('--');
  const operands = target === undefined ? [] : [target, ...args];
  if (dashes === -1) return { target, command: args };
  const after = raw.slice(dashes + 1);
  const before = operands.slice(0, Math.max(0, operands.length - after.length));
  if (before.length > 1) throw usage(`unexpected arguments before --: ${before.slice(1).join(' ')}`);
  return { target: before[0], command: after };
}

interface CredentialsFromFiles {
  headers: Record<string, string>;
  /** Read from stdin (`-`): kept in the secrets store like the flag's value. */
  bearerToken?: string;
  clientSecret?: string;
  /** Named files, made absolute: the supervisor reads them at every start, from another working directory. */
  bearerTokenFile?: string;
  clientSecretFile?: string;
}

async function readCredentialFlags(opts: RunOptions): Promise<CredentialsFromFiles> {
  const read = credentialFiles({
    readFile: (path) => readFile(path, 'utf8'),
    readStdin: async () => {
      let text = '';
      for await (const chunk of process.stdin) text += String(chunk);
      return text;
    },
  });
  const out: CredentialsFromFiles = { headers: {} };
  for (const file of opts.remoteHeaderFile) Object.assign(out.headers, parseHeaderFile(await read('--remote-header-file', file)));
  if (opts.remoteAuthBearerTokenFile === STDIN) out.bearerToken = credentialText('--remote-auth-bearer-token-file -', await read('--remote-auth-bearer-token-file', STDIN));
  else if (opts.remoteAuthBearerTokenFile) out.bearerTokenFile = resolvePath(opts.remoteAuthBearerTokenFile);
  if (opts.remoteAuthClientSecretFile === STDIN) out.clientSecret = credentialText('--remote-auth-client-secret-file -', await read('--remote-auth-client-secret-file', STDIN));
  else if (opts.remoteAuthClientSecretFile) out.clientSecretFile = resolvePath(opts.remoteAuthClientSecretFile);
  return out;
}

function remoteAuthInput(opts: RunOptions, cmd: Command, files: CredentialsFromFiles): RunRequest['remoteAuth'] {
  const given = Object.keys(opts).some((k) => k.startsWith('remoteAuth') && cmd.getOptionValueSource(k) === 'cli');
  if (!given) return undefined;
  const clientSecret = opts.remoteAuthClientSecret ?? files.clientSecret;
  const bearerToken = opts.remoteAuthBearerToken ?? files.bearerToken;
  return {
    ...(opts.remoteAuth ? { enabled: true } : {}),
    ...(opts.remoteAuthIssuer ? { issuer: opts.remoteAuthIssuer } : {}),
    ...(opts.remoteAuthClientId ? { clientId: opts.remoteAuthClientId } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(files.clientSecretFile ? { clientSecretFile: files.clientSecretFile } : {}),
    ...(opts.remoteAuthScopes?.length ? { scopes: opts.remoteAuthScopes } : {}),
    ...(opts.remoteAuthResource ? { resource: opts.remoteAuthResource } : {}),
    ...(opts.remoteAuthCallbackPort ? { callbackPort: opts.remoteAuthCallbackPort } : {}),
    ...(opts.remoteAuthSkipBrowser ? { skipBrowser: true } : {}),
    ...(opts.remoteAuthTimeout ? { timeout: opts.remoteAuthTimeout } : {}),
    ...(bearerToken ? { bearerToken } : {}),
    ...(files.bearerTokenFile ? { bearerTokenFile: files.bearerTokenFile } : {}),
  };
}

function usage(message: string, command = 'run'): Error {
  return badRequest(message, `Run \`thv ${command} --help\` for usage.`);
}

function describeWorkload(w: WorkloadInfo): string {
  const rows: Array<[string, string]> = [
    ['Name', w.name],
    ['Status', w.status],
    ['Details', w.status_context || '-'],
    // The dashboard's "Log in" link: the login waits in the supervisor, whoever started it.
    ...(w.login_url ? [['Log in at', w.login_url] as [string, string]] : []),
    ['URL', w.url],
    ['Port', String(w.port)],
    ['Package', w.package],
    ['Transport', w.transport_type],
    ['Group', w.group],
    ['Created', w.created_at],
    ['Supervisor PID', w.process_id ? String(w.process_id) : '-'],
    ...(w.isolation ? [['Isolation', w.isolation] as [string, string]] : []),
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(16)}${v}\n`).join('');
}

