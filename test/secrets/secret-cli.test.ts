import { readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/core/paths.js';
import { EncryptedSecretsProvider } from '../../src/secrets/encrypted.js';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { runThvInPty } from '../fixtures/pty.js';

// End to end: the built CLI as a child process without a TTY, XDG folders in a temp dir.
const PASSWORD = { TOOLHIVE_SECRETS_PASSWORD: 'correct horse battery staple' };

let home: TempHome;
let secretsFile: string;
beforeEach(async () => {
  home = await makeTempHome();
  secretsFile = resolvePaths(home.env).secretsFile;
});
afterEach(async () => {
  await home.cleanup();
});

const set = (name: string, value: string, env: NodeJS.ProcessEnv = PASSWORD) => runThv(['secret', 'set', name], home, { env, input: value });

describe('thv secret (encrypted store)', () => {
  it('a secret set in one process is read back exactly by another', async () => {
    const saved = await set('GITHUB_TOKEN', 'ghp_value-with-$pecial chars\n');
    expect(saved).toMatchObject({ code: 0, stdout: 'Secret GITHUB_TOKEN saved.\n' });
    const got = await runThv(['secret', 'get', 'GITHUB_TOKEN'], home, { env: PASSWORD });
    expect(got).toMatchObject({ code: 0, stdout: 'ghp_value-with-$pecial chars\n' });
  });

  it('never takes the value from argv', async () => {
    const result = await runThv(['secret', 'set', 'NAME', 'value-on-the-command-line'], home, { env: PASSWORD, input: 'x' });
    expect(result.code).toBe(2);
    expect(await stat(secretsFile).catch(() => 'missing')).toBe('missing');
  });

  it('list shows only the user\'s secrets, not thv\'s internal ones, which the user cannot reach either', async () => {
    await set('MY_TOKEN', 'mine');
    const internal = new EncryptedSecretsProvider({ file: secretsFile, password: async () => PASSWORD.TOOLHIVE_SECRETS_PASSWORD });
    await internal.set('__thv_auth_REGISTRY_OAUTH_0123abcd', 'refresh-token');
    const list = await runThv(['secret', 'list'], home, { env: PASSWORD });
    expect(list).toMatchObject({ code: 0, stdout: 'MY_TOKEN\n' });
    const json = await runThv(['secret', 'list', '--format', 'json'], home, { env: PASSWORD });
    expect(JSON.parse(json.stdout)).toEqual(['MY_TOKEN']);
    const reach = await runThv(['secret', 'get', '__thv_auth_REGISTRY_OAUTH_0123abcd'], home, { env: PASSWORD });
    expect(reach.code).toBe(2);
    expect(reach.stderr).toMatch(/reserved for thv/);
    expect(reach.stdout).toBe('');
  });

  it('keeps the store in one 0600 file with no name or value in plain text', async () => {
    await set('GITHUB_TOKEN', 'ghp_plaintextvalue');
    await set('SLACK_WEBHOOK', 'https://hooks.example/secret-path');
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    const bytes = (await readFile(secretsFile)).toString('latin1');
    for (const text of ['GITHUB_TOKEN', 'ghp_plaintextvalue', 'SLACK_WEBHOOK', 'hooks.example', PASSWORD.TOOLHIVE_SECRETS_PASSWORD]) {
      expect(bytes).not.toContain(text);
    }
  });

  it('deletes a secret, and says "not found" (exit 4) for one that does not exist', async () => {
    await set('A', '1');
    expect(await runThv(['secret', 'delete', 'A'], home, { env: PASSWORD })).toMatchObject({ code: 0 });
    const again = await runThv(['secret', 'delete', 'A'], home, { env: PASSWORD });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/failed to delete secret A: secret A not found/);
    expect((await runThv(['secret', 'get', 'A'], home, { env: PASSWORD })).code).toBe(4);
  });

  describe('a store it cannot trust is an error, never garbage, and is left byte-identical', () => {
    const flip = (bytes: Buffer, at: number) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    };
    const cases: Array<[string, (bytes: Buffer) => Buffer, NodeJS.ProcessEnv, RegExp]> = [
      ['a wrong password', (b) => b, { TOOLHIVE_SECRETS_PASSWORD: 'wrong' }, /wrong password, or the file was modified/],
      ['a truncated file', (b) => b.subarray(0, Math.floor(b.length / 2)), PASSWORD, /secrets file .* cannot be read: it is truncated/],
      ['a flipped byte in the ciphertext', (b) => flip(b, b.length - 10), PASSWORD, /cannot be read|modified or damaged/],
      ['a flipped byte in the salt', (b) => flip(b, b.indexOf('"salt":"') + 10), PASSWORD, /wrong password, or the file was modified|cannot be read/],
    ];
    for (const [what, damage, env, message] of cases) {
      it(`${what}: get and set fail with a clear message and exit non-zero`, async () => {
        await set('A', 'value-a');
        const stored = damage(await readFile(secretsFile));
        await writeFile(secretsFile, stored, { mode: 0o600 });
        for (const args of [['secret', 'get', 'A'], ['secret', 'set', 'B'], ['secret', 'list']]) {
          const result = await runThv(args, home, { env, input: 'value-b' });
          expect(result.code, args.join(' ')).not.toBe(0);
          expect(result.stderr).toMatch(message);
          expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
          expect(result.stdout).not.toContain('value-a');
        }
        expect((await readFile(secretsFile)).equals(stored)).toBe(true);
      });
    }
  });

  it('two processes setting different keys at the same time lose neither', async () => {
    await set('START', '0');
    const names = ['ALPHA', 'BRAVO', 'CHARLIE', 'DELTA'];
    const results = await Promise.all(names.map((name) => set(name, `value-${name}`)));
    expect(results.map((r) => r.code)).toEqual(names.map(() => 0));
    const list = await runThv(['secret', 'list'], home, { env: PASSWORD });
    expect(list.stdout.trim().split('\n')).toEqual([...names, 'START'].sort());
  });

  it('without a TTY and without a password source, fails fast with how to give one', async () => {
    const result = await runThv(['secret', 'set', 'A'], home, { input: 'value' });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/failed to set secret A: no password for the encrypted secrets store/);
    expect(result.stderr).toMatch(/Set TOOLHIVE_SECRETS_PASSWORD, or run `thv secret setup` in a terminal/);
    expect(await stat(secretsFile).catch(() => 'missing')).toBe('missing');
  });

  it('setup without a TTY takes TOOLHIVE_SECRETS_PASSWORD and records the provider in config', async () => {
    const result = await runThv(['secret', 'setup'], home, { env: PASSWORD });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Secrets provider set to encrypted/);
    const config = await readFile(resolvePaths(home.env).configFile, 'utf8');
    expect(config).toMatch(/provider_type: encrypted/);
    expect(config).toMatch(/setup_completed: true/);
    expect((await runThv(['secret', 'list', '--format', 'json'], home, { env: PASSWORD })).stdout).toBe('[]\n');
    const wrong = await runThv(['secret', 'setup'], home, { env: { TOOLHIVE_SECRETS_PASSWORD: 'another' } });
    expect(wrong.code).toBe(3);
  });
});

describe('thv secret (environment provider)', () => {
  it('reads TOOLHIVE_SECRET_<NAME> and refuses to write, saying what to do instead', async () => {
    expect(await runThv(['secret', 'provider'], home)).toMatchObject({ code: 0, stdout: 'encrypted\n' });
    expect((await runThv(['secret', 'setup', '--provider', 'environment'], home)).code).toBe(0);
    expect(await runThv(['secret', 'provider'], home)).toMatchObject({ code: 0, stdout: 'environment\n' });
    const env = { TOOLHIVE_SECRET_API_KEY: 'from-the-environment' };
    expect(await runThv(['secret', 'get', 'API_KEY'], home, { env })).toMatchObject({ code: 0, stdout: 'from-the-environment\n' });
    expect(await runThv(['secret', 'list'], home, { env })).toMatchObject({ code: 0, stdout: 'API_KEY\n' });
    const write = await runThv(['secret', 'set', 'API_KEY'], home, { env, input: 'new' });
    expect(write.code).toBe(2);
    expect(write.stderr).toMatch(/environment secrets provider is read-only: cannot set API_KEY: Set or unset TOOLHIVE_SECRET_API_KEY/);
    expect((await runThv(['secret', 'delete', 'API_KEY'], home, { env })).stderr).toMatch(/read-only/);
    expect(await stat(secretsFile).catch(() => 'missing')).toBe('missing');
  });
});

describe('thv secret at a terminal', () => {
  it('asks for a new password twice and for the value, echoing neither', async () => {
    const session = runThvInPty(['secret', 'set', 'NAME'], home.env);
    await session.answer('New secrets password: ', 'typed-password');
    await session.answer('Repeat the password: ', 'typed-password');
    await session.answer('Value for NAME: ', 'typed-value');
    const { code, output } = await session.exit;
    expect(code).toBe(0);
    expect(output).toContain('Secret NAME saved.');
    expect(output).not.toContain('typed-password');
    expect(output).not.toContain('typed-value');
    const got = await runThv(['secret', 'get', 'NAME'], home, { env: { TOOLHIVE_SECRETS_PASSWORD: 'typed-password' } });
    expect(got).toMatchObject({ code: 0, stdout: 'typed-value\n' });
  });

  it('asks once for the password of an existing store', async () => {
    await set('NAME', 'stored-value');
    const session = runThvInPty(['secret', 'get', 'NAME'], home.env);
    await session.answer('Secrets password: ', PASSWORD.TOOLHIVE_SECRETS_PASSWORD);
    const { code, output } = await session.exit;
    expect(code).toBe(0);
    expect(output).toContain('stored-value');
    expect(output.match(/password/gi)).toHaveLength(1);
  });

  it('Ctrl-C at the password prompt cancels with an error and writes nothing', async () => {
    const session = runThvInPty(['secret', 'set', 'NAME'], home.env);
    await session.answer('New secrets password: ', '\u0003');
    const { code, output } = await session.exit;
    expect(code).not.toBe(0);
    expect(output).toMatch(/password entry was cancelled/);
    expect(await stat(secretsFile).catch(() => 'missing')).toBe('missing');
  });
});
