import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson, renderTable } from '../output.js';
import type { WorkloadManager } from '../../workloads/manager.js';

export function registerGroupCommands(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('Manage groups of workloads');
  const groups = async () => {
    const { GroupService } = await import('../../workloads/group-service.js');
    const { createWorkloadManager } = await import('../../workloads/service.js');
    const { cliClientsObserver } = await import('./client.js');
    // Workloads moved by `group rm` follow the clients registered for their new group (docs/clients.md).
    const workloads: WorkloadManager = createWorkloadManager({ paths: ctx.paths, env: ctx.env, interactive: false, observer: cliClientsObserver(ctx, () => workloads) });
    return new GroupService(workloads);
  };

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
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: { format: string }) => {
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
