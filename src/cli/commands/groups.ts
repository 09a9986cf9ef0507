import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson, renderTable } from '../output.js';
import { formatOption, type OutputFormat } from '../options.js';

export function registerGroupCommands(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('Manage groups of workloads');
  const groups = () => ctx.app.groups();

  group
    .command('create')
    .description('Create a group')
    .argument('<name>')
    .action(async (name: string) => {
      const service = await groups();
      await failedTo(`create group ${name}`, () => service.create(name));
      ctx.out(`Group "${name}" created\n`);
    });

  group
    .command('list')
    .alias('ls')
    .description('List groups')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }) => {
      const service = await groups();
      const list = await failedTo('list groups', () => service.list());
      if (opts.format === 'json') ctx.out(renderJson(list));
      else ctx.out(renderTable(['NAME', 'WORKLOADS', 'CREATED'], list.map((g) => [g.name, String(g.workloads.length), g.created_at ?? '-']), ctx.columns));
    });

  group
    .command('rm')
    .description('Remove a group; its workloads move to the default group unless --with-workloads')
    .argument('<name>')
    .option('--with-workloads', 'remove the workloads of the group too')
    .action(async (name: string, opts: { withWorkloads?: boolean }) => {
      const service = await groups();
      await failedTo(`remove group ${name}`, () => service.remove(name, { withWorkloads: Boolean(opts.withWorkloads) }));
      ctx.out(`Group "${name}" removed\n`);
    });
}
