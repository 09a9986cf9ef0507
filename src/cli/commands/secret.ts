import { Option, type Command } from 'commander';
import { badRequest } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson } from '../output.js';
import { formatOption, type OutputFormat } from '../options.js';

/** `thv secret …` (docs/secrets.md). Values are read from stdin or a hidden prompt, never from argv. */
export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const secret = program.command('secret').description('Manage secrets (encrypted file or environment)');

  secret
    .command('setup')
    .description('Choose the secrets provider; for encrypted, set or confirm its password')
    .addOption(new Option('--provider <type>', 'where secrets are kept').choices(['encrypted', 'environment']).default('encrypted'))
    .action((opts: { provider: 'encrypted' | 'environment' }) =>
      failedTo('set up secrets', async () => {
        const result = await (await ctx.app.secrets()).setup(opts.provider);
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
        const secrets = await ctx.app.secrets();
        // Ask for the password before the value, so a missing one fails before stdin is consumed.
        await secrets.prepareWrite(name);
        const { promptHidden } = await import('../../secrets/prompt.js');
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
        const value = await (await ctx.app.secrets()).require(name);
        ctx.out(`${value}\n`);
      }),
    );

  secret
    .command('list')
    .description('List the names of your secrets')
    .addOption(formatOption())
    .action((opts: { format: OutputFormat }) =>
      failedTo('list secrets', async () => {
        const names = await (await ctx.app.secrets()).list();
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
        await (await ctx.app.secrets()).delete(name);
        ctx.out(`Secret ${name} deleted.\n`);
      }),
    );

  secret
    .command('provider')
    .description('Print the secrets provider in use')
    .action(() =>
      failedTo('show the secrets provider', async () => {
        ctx.out(`${await (await ctx.app.secrets()).providerType()}\n`);
      }),
    );
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
