import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson } from '../output.js';
import { byName, renderServerTable } from '../registry-output.js';
import { isRemoteServer, type CatalogServer } from '../../registry/types.js';
import { summarize } from '../../registry/summary.js';
import { cliRegistryService, warnIfStale } from './registry-shared.js';
import { registerRegistryAuthCommands } from './registry-auth.js';
import { formatOption, type OutputFormat } from '../options.js';

interface FormatOpts {
  format: OutputFormat;
  refresh?: boolean;
}

export function registerRegistryCommands(program: Command, ctx: CliContext): void {
  const registry = program.command('registry').description('Browse the MCP server registry');

  registry
    .command('list')
    .description('List the servers in the registry')
    .addOption(formatOption())
    .option('--refresh', 'fetch the registry again instead of using the cache')
    .action((opts: FormatOpts) =>
      failedTo('list servers', async () => {
        const { format } = opts;
        const { registry: service, done } = await cliRegistryService(ctx);
        const refresh = Boolean(opts.refresh);
        if (format === 'json') {
          const listing = await service.list({ refresh }).finally(done);
          warnIfStale(ctx, listing.source, listing.stale);
          ctx.out(renderJson(byName([...listing.catalog.servers, ...listing.catalog.remote_servers])));
          return;
        }
        const listing = await service.listSummaries({ refresh }).finally(done);
        warnIfStale(ctx, listing.source, listing.stale);
        if (listing.summaries.length === 0) ctx.err(`The registry ${listing.source} has no servers thv can run.\n`);
        else ctx.out(renderServerTable(byName(listing.summaries), ctx.columns));
      }),
    );

  registry
    .command('info <name>')
    .description('Show one server, by full name or unambiguous short name')
    .addOption(formatOption())
    .option('--refresh', 'fetch the registry again instead of using the cache')
    .action((name: string, opts: FormatOpts) =>
      failedTo('get server information', async () => {
        const { format } = opts;
        const { registry: service, done } = await cliRegistryService(ctx);
        const result = await service.getServer(name, { refresh: Boolean(opts.refresh) }).finally(done);
        warnIfStale(ctx, result.source, result.stale);
        ctx.out(format === 'json' ? renderJson(result.server) : renderServerDetails(result.server));
      }),
    );

  registry
    .command('convert')
    .description('Convert a legacy ToolHive registry file to the upstream format')
    .requiredOption('--in <file>', 'the legacy registry file')
    .option('--out <file>', 'where to write the converted registry (default: stdout)')
    .option('--in-place', 'overwrite the input file')
    .action((opts: { in: string; out?: string; inPlace?: boolean }) =>
      failedTo('convert the registry', async () => {
        const { convertLegacyFile } = await import('../../registry/legacy.js');
        const result = await convertLegacyFile({
          inFile: opts.in,
          ...(opts.out !== undefined ? { outFile: opts.out } : {}),
          ...(opts.inPlace ? { inPlace: true } : {}),
        });
        if (result.written === '-') ctx.out(result.json);
        else ctx.err(`Converted ${result.count} servers into ${result.written}\n`);
      }),
    );

  registerRegistryAuthCommands(registry, ctx);
}

export function registerSearchCommand(program: Command, ctx: CliContext): void {
  program
    .command('search <query>')
    .description('Search the registry by name, description and tags')
    .addOption(formatOption())
    .option('--refresh', 'fetch the registry again instead of using the cache')
    .action((query: string, opts: FormatOpts) =>
      failedTo('search servers', async () => {
        const { format } = opts;
        const { registry: service, done } = await cliRegistryService(ctx);
        const result = await service.search(query, { refresh: Boolean(opts.refresh) }).finally(done);
        warnIfStale(ctx, result.source, result.stale);
        if (format === 'json') ctx.out(renderJson(result.servers));
        else if (result.servers.length === 0) ctx.err(`No servers match \`${query}\`.\n`);
        else ctx.out(renderServerTable(result.servers.map(summarize), ctx.columns));
      }),
    );
}

function renderServerDetails(s: CatalogServer): string {
  const lines: Array<[string, string | undefined]> = [
    ['Name', s.name],
    ['Title', s.title],
    ['Description', s.description],
    ['Kind', summarize(s).kind],
    ['Transport', s.transport],
    ['Tier', s.tier],
    ['Status', s.status],
    ['Stars', s.metadata?.stars?.toString()],
    ['Last updated', s.metadata?.last_updated],
    ['Repository', s.repository_url],
  ];
  if (isRemoteServer(s)) lines.push(['URL', s.url]);
  else {
    lines.push(['Image', s.image]);
    for (const p of s.packages ?? []) lines.push([`Package (${p.registry_type})`, `${p.identifier}${p.version ? `@${p.version}` : ''}`]);
  }
  lines.push(['Tags', s.tags?.join(', ')], ['Tools', s.tools?.join(', ')]);
  let text = lines.filter(([, v]) => v).map(([k, v]) => `${`${k}:`.padEnd(18)}${v}`).join('\n') + '\n';
  const vars = s.env_vars ?? [];
  if (vars.length > 0) {
    text += 'Environment variables:\n';
    for (const v of vars) text += `  ${v.name}${v.required ? ' (required)' : ''}${v.secret ? ' (secret)' : ''}${v.description ? ` - ${v.description}` : ''}\n`;
  }
  return text;
}
