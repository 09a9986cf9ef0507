import { resolvePaths, type Paths } from '../core/paths.js';
import { envColumns, envFlag } from '../core/env.js';
import { createAppServices, type AppServices } from '../app/services.js';
import { formatAge } from './output.js';
import { warnClientReport } from './client-warnings.js';
import { headlessReason } from '../auth/opener.js';
import { SERVER_TABLE_VERSION, byName, renderServerTable } from './registry-output.js';

/**
 * What a command may touch, as one object (pnpm's command contexts): tests build their own (see
 * `cliContext`). Human output goes to `out`, everything else to `err`; services come from `app`,
 * the composition root of this invocation.
 */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  paths: Paths;
  out: (text: string) => void;
  err: (text: string) => void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  columns: number;
  debug: boolean;
  app: AppServices;
  /** Clears the registry's TTY progress line, when one is shown. */
  clearProgress(): void;
}

export type CliIo = Omit<CliContext, 'app' | 'clearProgress' | 'paths' | 'debug'> & { paths?: Paths };

/** A context around the given streams and environment, with its own services (tests pass strings sinks). */
export function cliContext(io: CliIo): CliContext {
  let progressShown = false;
  const ctx = { paths: resolvePaths(io.env), debug: false, ...io } as CliContext;
  ctx.clearProgress = () => {
    if (progressShown) ctx.err('\r\x1b[K');
    progressShown = false;
  };
  ctx.app = createAppServices({
    paths: ctx.paths,
    env: ctx.env,
    interactive: isInteractive(ctx),
    // A remote OAuth login opens a browser only for a person at a terminal on a desktop; otherwise the
    // supervisor writes the URL to the status and `thv run` prints it (docs/remote-auth.md#headless-machines).
    openBrowser: isInteractive(ctx) && !headlessReason(ctx.env),
    registry: {
      // The registry's OAuth flow prints the authorization URL here; a TTY shows fetch progress.
      err: ctx.err,
      // What `thv registry list` prints to a pipe, kept with the cache (docs/architecture.md#start-up).
      renderTable: (summaries) => ({ version: SERVER_TABLE_VERSION, text: renderServerTable(byName([...summaries]), Number.POSITIVE_INFINITY) }),
      ...(ctx.stderrIsTTY
        ? {
            onProgress: (n: number) => {
              progressShown = true;
              ctx.err(`\rFetching registry… ${n} servers`);
            },
          }
        : {}),
    },
    // Slow steps before a workload starts (installing a package for the sandbox).
    onProgress: (line) => ctx.err(`${line}\n`),
    onClientReport: (report) => warnClientReport(ctx, report),
    onStale: (stale) => ctx.err(`Warning: the registry could not be reached (${stale.error}); using data from ${formatAge(Date.now() - stale.fetchedAt)} ago.\n`),
  });
  return ctx;
}

export function processContext(): CliContext {
  return cliContext({
    env: process.env,
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    // Tables are cut to the terminal; piped output keeps whole lines unless COLUMNS says otherwise.
    columns: (process.stdout.isTTY && process.stdout.columns) || envColumns(process.env) || Number.POSITIVE_INFINITY,
  });
}

/** docs/auth.md#non-interactive-use-ci-scripts-the-rest-api: a command may start a browser flow only when a person is at a terminal. */
export function isInteractive(ctx: Pick<CliContext, 'env' | 'stdinIsTTY' | 'stderrIsTTY'>): boolean {
  if (envFlag(ctx.env, 'TOOLHIVE_NON_INTERACTIVE')) return false;
  return ctx.stdinIsTTY && ctx.stderrIsTTY;
}
