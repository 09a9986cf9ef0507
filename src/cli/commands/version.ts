import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { THV_VERSION } from '../../core/version.js';
import { renderJson } from '../output.js';
import { formatOption, type OutputFormat } from '../options.js';

export function registerVersionCommand(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('Show the version of thv')
    .addOption(formatOption())
    .action((opts: { format: OutputFormat }) => {
      if (opts.format === 'json') ctx.out(renderJson({ version: THV_VERSION, node: process.version }));
      else ctx.out(`ToolHive (TypeScript) v${THV_VERSION} (node ${process.version})\n`);
    });
}
