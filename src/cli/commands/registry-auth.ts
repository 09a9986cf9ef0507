import type { Command } from 'commander';
import { portOption, scopesOption } from '../options.js';
import type { CliContext } from '../context.js';
import type { LoginOverrides } from '../../auth/registry-auth.js';
import { failedTo } from '../errors.js';

/** What login and logout need from the command's context; loaded lazily to keep start-up small. */
async function registryAuthDeps(ctx: CliContext) {
  const configStore = await ctx.app.config();
  const secrets = await ctx.app.secrets();
  return {
    config: await configStore.load(),
    configStore,
    paths: ctx.paths,
    env: ctx.env,
    // Login runs the browser flow regardless (it is the user's explicit request); `interactive`
    // only decides whether the secrets password may be prompted for.
    interactive: ctx.app.interactive,
    err: ctx.err,
    secrets: await secrets.provider(),
  };
}

/** `thv registry login|logout`, added to the `registry` command group. */
export function registerRegistryAuthCommands(registry: Command, ctx: CliContext): void {
  registry
    .command('login')
    .description('Log in to the registry with OAuth/OIDC in a browser (stores the refresh token in the secrets store)')
    .option('--registry <url>', 'the registry API URL to use (stored in the config)')
    .option('--issuer <url>', 'the OIDC issuer URL (with --client-id; stored in the config)')
    .option('--client-id <id>', 'the OAuth client id (with --issuer)')
    .option('--audience <audience>', 'the audience to request a token for')
    .addOption(scopesOption('--scopes <scopes>', 'comma-separated scopes (default openid,offline_access; offline_access is always added)'))
    .addOption(portOption('--callback-port <port>', 'the loopback port for the login callback (default 8666)', { allowZero: true }))
    .action(async (opts: LoginOverrides) => {
      await failedTo('log in to the registry', async () => {
        const { registryLogin } = await import('../../auth/registry-auth.js');
        await registryLogin({
          ...(await registryAuthDeps(ctx)),
          // commander sets only the options the user gave, so they are the overrides as they are.
          overrides: opts,
          // A new --registry goes through the registry service, so it gets the checks of
          // `thv config set-registry` (type detection, no plain-http or private addresses).
          setRegistry: async (input) => {
            const { RegistryService } = await import('../../registry/service.js');
            await new RegistryService({ paths: ctx.paths, env: ctx.env, interactive: false }).setRegistry(input);
          },
        });
      });
      ctx.out('Successfully logged in to the registry.\n');
    });

  registry
    .command('logout')
    .description('Log out of the registry: delete its stored tokens and cache, keeping the OAuth settings')
    .action(async () => {
      const result = await failedTo('log out of the registry', async () => {
        const { registryLogout } = await import('../../auth/registry-auth.js');
        return registryLogout(await registryAuthDeps(ctx));
      });
      ctx.out(
        result.removedTokens
          ? `Logged out of the registry${result.revoked ? ' (the refresh token was revoked)' : ''}.\n`
          : 'Logged out of the registry (no stored tokens were found).\n',
      );
    });
}
