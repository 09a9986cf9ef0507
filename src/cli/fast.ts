// The start-up fast path (docs/architecture.md#start-up): `thv registry list` from a fresh disk cache
// and `thv list`, answered before commander, zod, yaml and the services are loaded. It answers only
// what it is certain to answer byte for byte as the full CLI would; anything else (another command, a
// flag it does not know, an unusual config, a stale cache, debug logs) returns false and bin/thv.js
// loads the full CLI, which then does everything itself.
import { closeSync, fstatSync, openSync, readSync, readFileSync, statSync, writeSync } from 'node:fs';
import { envColumns, envFlag, type InvalidEnvValue } from '../core/env.js';
import { resolvePaths, type Paths } from '../core/paths.js';
import { createLogger, levelFromEnv, setLogger } from '../core/log.js';
import { quickRegistrySettings } from '../config/quick.js';
import { normaliseRegistryUrl } from '../auth/registry-identity.js';
import { DISK_MAX_BYTES, FRESH_MS, diskLayout } from '../registry/disk-cache.js';
import type { ServerSummary } from '../registry/summary.js';
import type { Catalog } from '../registry/types.js';
import { createWorkloadStores } from '../workloads/stores.js';
import { listWorkloads } from '../workloads/listing.js';
import { failedTo, renderError } from './errors.js';
import { renderJson } from './output.js';
import { renderWorkloadList } from './list-output.js';
import { SERVER_TABLE_VERSION, byName, renderServerTable } from './registry-output.js';
import type { OutputFormat } from './options.js';

export interface FastIo {
  env: NodeJS.ProcessEnv;
  /** Text or bytes for stdout. */
  out: (data: string | Uint8Array) => void;
  err: (text: string) => void;
  columns: number;
  now?: () => number;
}

/** Runs `argv` when the fast path can answer it: the exit code, or undefined for the full CLI. */
export async function runFast(argv: string[], io: FastIo): Promise<number | undefined> {
  const command = parse(argv);
  if (!command || !plainEnvironment(io.env)) return undefined;
  const paths = resolvePaths(io.env);
  if (command.name === 'registry list') return registryList(paths, command.format, io);
  // As the full CLI's preAction does: the same logger, so reconciliation's warnings read the same.
  setLogger(createLogger({ level: levelFromEnv(io.env) }));
  try {
    const stores = createWorkloadStores({ paths, env: io.env });
    const list = await failedTo('list workloads', () => listWorkloads(stores, { all: command.all }));
    io.out(renderWorkloadList(list, { all: command.all, format: command.format }, io.columns));
    return 0;
  } catch (err) {
    const { text, exitCode } = renderError(err, false);
    io.err(text);
    return exitCode;
  }
}

type FastCommand = { name: 'registry list'; format: OutputFormat } | { name: 'list'; format: OutputFormat; all: boolean };

/** The two command lines it knows, with `--format text|json` (either spelling) and, for list, `-a/--all`. */
function parse(argv: string[]): FastCommand | undefined {
  let rest: string[];
  let name: FastCommand['name'];
  if (argv[0] === 'registry' && argv[1] === 'list') [name, rest] = ['registry list', argv.slice(2)];
  else if (argv[0] === 'list' || argv[0] === 'ls') [name, rest] = ['list', argv.slice(1)];
  else return undefined;
  let format: OutputFormat | undefined;
  let all = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = arg === '--format' ? rest[++i] : arg.startsWith('--format=') ? arg.slice('--format='.length) : undefined;
    if (value !== undefined || arg === '--format') {
      if (format || (value !== 'text' && value !== 'json')) return undefined;
      format = value;
    } else if (name === 'list' && (arg === '-a' || arg === '--all') && !all) all = true;
    else return undefined;
  }
  return name === 'list' ? { name, format: format ?? 'text', all } : { name, format: format ?? 'text' };
}

/**
 * No debug or info logging, and no variable the full CLI would warn about: those runs take the full
 * path, which logs and warns in its own words.
 */
function plainEnvironment(env: NodeJS.ProcessEnv): boolean {
  let invalid = false;
  const onInvalid: InvalidEnvValue = () => void (invalid = true);
  envFlag(env, 'TOOLHIVE_NON_INTERACTIVE', onInvalid);
  const level = levelFromEnv(env, onInvalid);
  return !invalid && level !== 'debug' && level !== 'info';
}

/** The table (or JSON) from the disk cache of the configured remote registry, when that cache is fresh. */
function registryList(paths: Paths, format: OutputFormat, io: FastIo): number | undefined {
  let config: string;
  try {
    config = readFileSync(paths.configFile, 'utf8');
  } catch {
    return undefined;
  }
  const settings = quickRegistrySettings(config);
  const remote = (settings?.registry_api_url || settings?.registry_url || '').trim();
  if (!remote) return undefined;
  let fd: number;
  try {
    fd = openSync(paths.registryCacheFile(normaliseRegistryUrl(remote)), 'r');
  } catch {
    return undefined;
  }
  try {
    const { size, mtimeMs } = fstatSync(fd);
    if (size > DISK_MAX_BYTES || (io.now ?? Date.now)() - mtimeMs >= FRESH_MS) return undefined;
    const read = (start: number, end: number) => {
      const bytes = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, start + done);
        if (n === 0) throw new Error('the registry cache changed while it was read');
        done += n;
      }
      return bytes;
    };
    const layout = diskLayout(read(0, Math.min(size, 4096)), size);
    // An empty catalog is a message on stderr, in the full CLI's words.
    if (!layout || layout.summaries.end - layout.summaries.start <= 2) return undefined;
    if (format === 'json') {
      const catalog = JSON.parse(read(layout.catalogStart, size).toString('utf8')) as Catalog;
      if (!Array.isArray(catalog?.servers) || !Array.isArray(catalog?.remote_servers)) return undefined;
      io.out(renderJson(byName([...catalog.servers, ...catalog.remote_servers])));
    } else if (io.columns === Number.POSITIVE_INFINITY && layout.table?.version === SERVER_TABLE_VERSION) {
      io.out(read(layout.table.start, layout.table.end));
    } else {
      const summaries = JSON.parse(read(layout.summaries.start, layout.summaries.end).toString('utf8')) as ServerSummary[];
      if (!Array.isArray(summaries)) return undefined;
      io.out(renderServerTable(byName(summaries), io.columns));
    }
    return 0;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * bin/thv.js calls this first: true when the command was answered (the exit code is set), false
 * when the full CLI must run it. Nothing has been written when it returns false.
 */
export async function fastMain(argv: string[]): Promise<boolean> {
  const code = await runFast(argv, {
    env: process.env,
    out: writeStdout,
    err: (text) => void process.stderr.write(text),
    // As processContext: tables are cut to the terminal; piped output keeps whole lines unless COLUMNS says otherwise.
    columns: (maybeTerminal() && process.stdout.isTTY && process.stdout.columns) || envColumns(process.env) || Number.POSITIVE_INFINITY,
  });
  if (code === undefined) return false;
  process.exitCode = code;
  return true;
}

/**
 * Whether stdout may be a terminal, without building `process.stdout` (see writeStdout) when it is a
 * pipe, a file or /dev/null, the character device scripts and benchmarks send output to.
 */
function maybeTerminal(): boolean {
  try {
    const out = fstatSync(1);
    return out.isCharacterDevice() && out.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/**
 * Straight to file descriptor 1: `process.stdout` is built on first use, and for a pipe that loads
 * Node's whole socket stack, a tenth of what `thv list` costs on top of `node -e 0`. A reader that went
 * away (`thv list | head`) ends the process quietly, as the full CLI does; a non-blocking descriptor
 * that is full hands the rest to `process.stdout`, which waits for the reader.
 */
function writeStdout(data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(0);
    if (code !== 'EAGAIN') throw err;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
    });
    process.stdout.write(bytes.subarray(done));
  }
}
