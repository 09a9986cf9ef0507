import { Option, type Command } from 'commander';
import { badRequest, notFound } from '../../core/errors.js';
import { isInteractive, type CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson } from '../output.js';

/** `thv secret …` (docs/secrets.md). Values are read from stdin or a hidden prompt, never from argv. */
export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const secret = program.command('secret').description('Manage secrets (encrypted file or environment)');

  secret
    .command('setup')
    .description('Choose the secrets provider; for encrypted, set or confirm its password')
    .addOption(new Option('--provider <type>', 'where secrets are kept').choices(['encrypted', 'environment']).default('encrypted'))
    .action((opts: { provider: 'encrypted' | 'environment' }) =>
      failedTo('set up secrets', async () => {
        const { setupSecrets } = await import('../../secrets/index.js');
        const result = await setupSecrets({ paths: ctx.paths, env: ctx.env, providerType: opts.provider, interactive: isInteractive(ctx) });
        ctx.out(`Secrets provider set to ${result.providerType}.\n`);
        if (result.providerType === 'encrypted') {
          ctx.out(result.created ? `Created an empty encrypted store at ${ctx.paths.secretsFile}.\n` : 'The existing encrypted store opens with this password.\n');
          ctx.out(
            result.passwordInKeyring
              ? 'The password is kept in the OS keyring.\n'
              : 'The OS keyring is not available: give the password through TOOLHIVE_SECRETS_PASSWORD or type it when asked.\n',
          );
        }
      }),
    );

  secret
    .command('set <name>')
    .description('Store a secret; the value is read from stdin, or asked for without echo at a terminal')
    .action((name: string) =>
      failedTo(`set secret ${name}`, async () => {
        const { assertUserSecretName, readOnlyProviderError, promptHidden } = await import('../../secrets/index.js');
        assertUserSecretName(name);
        const secrets = await openUserSecrets(ctx);
        if (!secrets.capabilities.canWrite) throw readOnlyProviderError(secrets.type, 'set', name);
        // Ask for the password before the value, so a missing one fails before stdin is consumed.
        await secrets.unlock?.();
        const value = ctx.stdinIsTTY ? await promptHidden(`Value for ${name}: `) : stripOneNewline(await readStdin());
        if (!value) throw badRequest('the secret value is empty', `Pipe the value in, e.g. \`printf %s "$VALUE" | thv secret set ${name}\`.`);
        await secrets.set(name, value);
        ctx.out(`Secret ${name} saved.\n`);
      }),
    );

  secret
    .command('get <name>')
    .description('Print the value of a secret')
    .action((name: string) =>
      failedTo(`get secret ${name}`, async () => {
        const secrets = await openUserSecrets(ctx);
        const value = await secrets.get(name);
        if (value === undefined) throw notFound(`secret ${name} not found`, 'Run `thv secret list` to see the names.');
        ctx.out(`${value}\n`);
      }),
    );

  secret
    .command('list')
    .description('List the names of your secrets')
    .option('--format <format>', 'text or json', 'text')
    .action((opts: { format: string }) =>
      failedTo('list secrets', async () => {
        const names = await (await openUserSecrets(ctx)).list();
        if (opts.format === 'json') ctx.out(renderJson(names));
        else if (names.length === 0) ctx.err('No secrets found.\n');
        else ctx.out(names.map((n) => `${n}\n`).join(''));
      }),
    );

  secret
    .command('delete <name>')
    .description('Delete a secret')
    .action((name: string) =>
      failedTo(`delete secret ${name}`, async () => {
        const { readOnlyProviderError } = await import('../../secrets/index.js');
        const secrets = await openUserSecrets(ctx);
        if (!secrets.capabilities.canDelete) throw readOnlyProviderError(secrets.type, 'delete', name);
        if ((await secrets.get(name)) === undefined) throw notFound(`secret ${name} not found`, 'Run `thv secret list` to see the names.');
        await secrets.delete(name);
        ctx.out(`Secret ${name} deleted.\n`);
      }),
    );

  secret
    .command('provider')
    .description('Print the secrets provider in use')
    .action(() =>
      failedTo('show the secrets provider', async () => {
        const [{ ConfigStore }, { secretsProviderType }] = await Promise.all([import('../../config/store.js'), import('../../secrets/index.js')]);
        ctx.out(`${secretsProviderType(await new ConfigStore(ctx.paths.configFile).load(), ctx.env)}\n`);
      }),
    );
}

async function openUserSecrets(ctx: CliContext) {
  const [{ ConfigStore }, { openSecretsProvider, userSecrets }] = await Promise.all([import('../../config/store.js'), import('../../secrets/index.js')]);
  const config = await new ConfigStore(ctx.paths.configFile).load();
  return userSecrets(await openSecretsProvider({ paths: ctx.paths, env: ctx.env, config, interactive: isInteractive(ctx) }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** `echo value | thv secret set x` must store `value`, not `value\n`. */
function stripOneNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
