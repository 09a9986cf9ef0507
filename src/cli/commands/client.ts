import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { isInteractive } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson, renderTable } from '../output.js';
import { formatOption } from '../options.js';
import { warnClientReport as warn } from '../client-warnings.js';
import { badRequest } from '../../core/errors.js';
import type { ClientChangeReport, ClientService } from '../../clients/service.js';
import type { WorkloadManager } from '../../workloads/manager.js';

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

async function services(ctx: CliContext): Promise<{ clients: ClientService; workloads: WorkloadManager }> {
  const [clients, workloads] = await Promise.all([ctx.app.clients(), ctx.app.workloads()]);
  return { clients, workloads };
}


function describeChanges(report: ClientChangeReport): string {
  const verbs: Partial<Record<string, string>> = { added: 'Added', updated: 'Updated', removed: 'Removed', unchanged: 'Kept' };
  let text = '';
  for (const change of report.changes) {
    const verb = verbs[change.outcome];
    if (verb) text += `${verb} "${change.workload}" ${change.outcome === 'removed' ? 'from' : 'in'} ${change.file}\n`;
  }
  return text;
}

export function registerClientCommands(program: Command, ctx: CliContext): void {
  const client = program.command('client').description('Register running MCP servers with AI clients (Claude Code, Cursor, VS Code, …)');

  client
    .command('status')
    .description('Show each supported client: installed here? registered with thv?')
    .addOption(formatOption())
    .action(async (opts: { format: string }) => {
      const { clients } = await services(ctx);
      const list = await failedTo('get the client status', () => clients.status());
      if (opts.format === 'json') {
        ctx.out(renderJson(list.map(({ client_type, installed, registered, supports_skills, supports_plugins }) => ({ client_type, installed, registered, supports_skills, supports_plugins }))));
        return;
      }
      ctx.out(
        renderTable(
          ['CLIENT', 'INSTALLED', 'REGISTERED', 'CONFIG FILE'],
          list.map((c) => [c.client_type, c.installed ? 'yes' : 'no', c.registered ? 'yes' : 'no', c.config_files.join(', ')]),
          ctx.columns,
        ),
      );
    });

  client
    .command('setup')
    .description('Pick installed clients to register (interactive on a terminal; otherwise give names or --all)')
    .argument('[clients...]', 'clients to register without asking')
    .option('--all', 'register every installed client that is not registered yet')
    .option('--group <group>', 'register for this group (repeatable or comma-separated; default: default)', collect, [])
    .addOption(formatOption())
    .action(async (names: string[], opts: { all?: boolean; group: string[]; format: string }) => {
      const { clients } = await services(ctx);
      const statuses = await failedTo('get the client status', () => clients.status());
      const candidates = statuses.filter((s) => s.installed && !s.registered);
      let chosen: string[];
      if (names.length) chosen = names;
      else if (opts.all) chosen = candidates.map((c) => c.client_type);
      else if (isInteractive(ctx)) chosen = await pickClients(ctx, candidates.map((c) => ({ id: c.client_type, label: `${c.display_name} (${c.config_files[0] ?? ''})` })));
      else throw badRequest('no terminal to ask which clients to register', 'Give client names, or --all for every installed one.');
      if (chosen.length === 0) {
        if (opts.format === 'json') ctx.out(renderJson({ registered: [], changes: [], problems: [] }));
        else ctx.out(candidates.length ? 'No clients selected\n' : 'No installed clients left to register\n');
        return;
      }
      const report = await failedTo('register clients', () => clients.register(chosen, opts.group));
      printRegistration(ctx, chosen, report, opts.format);
    });

  client
    .command('register')
    .description('Register clients: the running workloads of the group(s) are added to their config files, and kept current')
    .argument('<clients...>')
    .option('--group <group>', 'register for this group (repeatable or comma-separated; default: default)', collect, [])
    .addOption(formatOption())
    .action(async (names: string[], opts: { group: string[]; format: string }) => {
      const { clients } = await services(ctx);
      const report = await failedTo('register clients', () => clients.register(names, opts.group));
      printRegistration(ctx, names, report, opts.format);
    });

  client
    .command('remove')
    .alias('unregister')
    .description("Unregister clients (from the given groups, or from all); thv's entries are removed from their files")
    .argument('<clients...>')
    .option('--group <group>', 'only from this group (repeatable or comma-separated)', collect, [])
    .addOption(formatOption())
    .action(async (names: string[], opts: { group: string[]; format: string }) => {
      const { clients } = await services(ctx);
      const report = await failedTo('remove clients', () => clients.remove(names, opts.group));
      if (opts.format === 'json') {
        ctx.out(renderJson({ removed: names, ...report }));
        return;
      }
      ctx.out(describeChanges(report));
      ctx.out(`Unregistered ${names.join(', ')}${opts.group.length ? ` from group ${opts.group.join(', ')}` : ''}\n`);
      warn(ctx, report);
    });

  client
    .command('list-registered')
    .description('List the registered clients and their groups')
    .addOption(formatOption())
    .action(async (opts: { format: string }) => {
      const { clients } = await services(ctx);
      const list = await failedTo('list registered clients', () => clients.listRegistered());
      if (opts.format === 'json') ctx.out(renderJson(list));
      else if (list.length === 0) ctx.out('No clients are registered (see `thv client setup`)\n');
      else ctx.out(renderTable(['CLIENT', 'GROUPS'], list.map((c) => [c.name, c.groups.join(', ') || '-']), ctx.columns));
    });

  program
    .command('proxy')
    .description('Bridges for clients')
    .command('stdio')
    .description('A stdio MCP server relaying to a running workload (for clients that only start commands, e.g. Claude Desktop)')
    .argument('<workload>')
    .action(async (name: string) => {
      const [{ workloads }, { toClientWorkload }, { runStdioProxy }] = await Promise.all([
        services(ctx),
        import('../../clients/service.js'),
        import('../../clients/stdio-proxy.js'),
      ]);
      const info = await failedTo(`reach workload ${name}`, () => workloads.status(name));
      if (info.status !== 'running' && info.status !== 'unhealthy') {
        throw badRequest(`workload "${name}" is ${info.status}`, `Start it with \`thv start ${name}\`.`);
      }
      await runStdioProxy({ workload: toClientWorkload(info), log: (line) => ctx.err(`${line}\n`) });
    });
}

function printRegistration(ctx: CliContext, names: string[], report: ClientChangeReport, format: string): void {
  if (format === 'json') {
    ctx.out(renderJson({ registered: names, ...report }));
    return;
  }
  ctx.out(describeChanges(report));
  ctx.out(`Registered ${names.join(', ')}\n`);
  if (report.changes.some((c) => c.outcome === 'not_installed')) {
    const missing = [...new Set(report.changes.filter((c) => c.outcome === 'not_installed').map((c) => c.client))];
    ctx.err(`Note: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed here; entries are written once ${missing.length === 1 ? 'it is' : 'they are'}.\n`);
  }
  warn(ctx, report);
  ctx.err('Restart the clients (or start a new session) to pick up the change.\n');
}

/** A numbered pick list on the terminal: "1 3", "all", or nothing. */
async function pickClients(ctx: CliContext, choices: Array<{ id: string; label: string }>): Promise<string[]> {
  if (choices.length === 0) return [];
  ctx.err('Installed clients that are not registered:\n');
  choices.forEach((c, i) => ctx.err(`  ${i + 1}) ${c.id}  ${c.label}\n`));
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('Register which? (numbers separated by spaces, "all", or Enter for none): ')).trim();
    if (answer === 'all') return choices.map((c) => c.id);
    const picked: string[] = [];
    for (const token of answer.split(/[\s,]+/).filter(Boolean)) {
      const index = Number(token) - 1;
      const choice = Number.isInteger(index) ? choices[index] : choices.find((c) => c.id === token);
      if (!choice) throw badRequest(`"${token}" is not one of the listed clients`);
      picked.push(choice.id);
    }
    return picked;
  } finally {
    rl.close();
  }
}
