import { Command, CommanderError, Option } from 'commander';
import { THV_VERSION } from '../core/version.js';
import { createLogger, levelFromEnv, setLogger } from '../core/log.js';
import type { CliContext } from './context.js';
import { EXIT, renderError } from './errors.js';
import { COMMAND_GROUPS } from './commands/index.js';

/**
 * The thv program for one context. Importing this module runs nothing: the entry (main.ts) calls
 * `runCli` with the process's context, tests with their own (docs/architecture.md).
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('thv')
    .description('Discover, run and secure MCP servers')
    .version(THV_VERSION, '-V, --version')
    .addOption(new Option('--debug', 'verbose logs and stack traces on stderr'))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: ctx.out, writeErr: ctx.err })
    .exitOverride();
  program.hook('preAction', (_root, action) => {
    const debug = Boolean(action.optsWithGlobals().debug);
    ctx.debug = debug;
    setLogger(createLogger({ level: debug ? 'debug' : levelFromEnv(ctx.env) }));
  });
  for (const register of COMMAND_GROUPS) register(program, ctx);
  // exitOverride must reach every subcommand so usage errors become exit 2, not process.exit(1).
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: ctx.out, writeErr: ctx.err });
    cmd.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs one command line (without `node thv`) and returns its exit code; errors are rendered to `ctx.err`. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    const { text, exitCode } = renderError(err, ctx.debug || argv.includes('--debug'));
    ctx.err(text);
    return exitCode;
  }
}
