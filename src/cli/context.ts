import { resolvePaths, type Paths } from '../core/paths.js';
import { envColumns, envFlag } from '../core/env.js';

/**
 * What a command may touch, as one object (pnpm's command contexts): tests and the API build their
 * own. Human output goes to `out`, everything else to `err`.
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
}

export function processContext(): CliContext {
  return {
    env: process.env,
    paths: resolvePaths(process.env),
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    // Tables are cut to the terminal; piped output keeps whole lines unless COLUMNS says otherwise.
    columns: (process.stdout.isTTY && process.stdout.columns) || envColumns(process.env) || Number.POSITIVE_INFINITY,
    debug: false,
  };
}

/** docs/auth.md#non-interactive-use-ci-scripts-the-rest-api: a command may start a browser flow only when a person is at a terminal. */
export function isInteractive(ctx: CliContext): boolean {
  if (envFlag(ctx.env, 'TOOLHIVE_NON_INTERACTIVE')) return false;
  return ctx.stdinIsTTY && ctx.stderrIsTTY;
}
