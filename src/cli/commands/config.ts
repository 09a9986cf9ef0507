import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { badRequest } from '../../core/errors.js';
import { cliRegistryService } from './registry-shared.js';
import { portOption, scopesOption } from '../options.js';

interface SetRegistryOpts {
  allowPrivateIp?: boolean;
  issuer?: string;
  clientId?: string;
  audience?: string;
  scopes?: string[];
  callbackPort?: number;
}

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('Manage thv configuration');

  config
    .command('set-registry <url-or-path>')
    .description('Use a registry: an MCP Registry API URL, a registry JSON URL (.json) or a local file')
    .option('--allow-private-ip', 'allow http:// and private or loopback addresses')
    .option('--issuer <url>', 'OAuth/OIDC issuer protecting the registry (with --client-id)')
    .option('--client-id <id>', 'OAuth client id (with --issuer)')
    .option('--audience <audience>', 'audience to request tokens for')
    .addOption(scopesOption('--scopes <scopes>', 'comma-separated scopes (default: openid,offline_access)'))
    .addOption(portOption('--callback-port <port>', 'loopback port for the OAuth callback (default 8666)'))
    .action((location: string, opts: SetRegistryOpts) =>
      failedTo('set the registry', async () => {
        if (Boolean(opts.issuer) !== Boolean(opts.clientId)) throw badRequest('--issuer and --client-id must be given together');
        const { registry } = await cliRegistryService(ctx);
        await registry.setRegistry({
          location,
          allowPrivateIp: Boolean(opts.allowPrivateIp),
          ...(opts.issuer && opts.clientId
            ? {
                auth: {
                  issuer: opts.issuer,
                  clientId: opts.clientId,
                  ...(opts.audience ? { audience: opts.audience } : {}),
                  ...(opts.scopes?.length ? { scopes: opts.scopes } : {}),
                  ...(opts.callbackPort ? { callbackPort: opts.callbackPort } : {}),
                },
              }
            : {}),
        });
        const info = await registry.info();
        ctx.out(`Registry set to ${info.source} (${info.type})${info.auth_type ? `, ${info.auth_type} authentication` : ''}\n`);
      }),
    );

  config
    .command('get-registry')
    .description('Show the configured registry')
    .action(() =>
      failedTo('get the registry', async () => {
        const { registry } = await cliRegistryService(ctx);
        const info = await registry.info();
        let text = `Registry: ${info.source} (${info.type})\n`;
        if (info.auth_type) text += `Authentication: ${info.auth_type} (${info.auth_status})\n`;
        if (info.auth_config?.issuer) text += `Issuer: ${info.auth_config.issuer}\nClient ID: ${info.auth_config.client_id ?? ''}\n`;
        ctx.out(text);
      }),
    );

  config
    .command('unset-registry')
    .description('Go back to the embedded catalog')
    .action(() =>
      failedTo('unset the registry', async () => {
        const { registry } = await cliRegistryService(ctx);
        await registry.unsetRegistry();
        ctx.out('Registry unset; using the embedded catalog.\n');
      }),
    );
}
