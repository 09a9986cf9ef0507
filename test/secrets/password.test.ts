import { describe, expect, it } from 'vitest';
import { ThvError } from '../../src/core/errors.js';
import { osKeyring, type KeyringEntry } from '../../src/secrets/keyring.js';
import { passwordSource } from '../../src/secrets/password.js';
import { memoryKeyring, noKeyring, refusePrompt } from './helpers.js';

const ENV_PASSWORD = { TOOLHIVE_SECRETS_PASSWORD: 'from-env' };

function scriptedPrompt(answers: string[]) {
  const asked: string[] = [];
  const prompt = async (question: string) => {
    asked.push(question);
    const answer = answers.shift();
    if (answer === undefined) throw new Error(`no scripted answer for ${question}`);
    return answer;
  };
  return { prompt, asked };
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ThvError);

describe('where the secrets password comes from', () => {
  it('prefers the OS keyring over the environment and the prompt', async () => {
    const get = passwordSource({ env: ENV_PASSWORD, keyring: memoryKeyring('from-keyring'), interactive: true, prompt: refusePrompt });
    expect(await get({ creating: false })).toBe('from-keyring');
  });

  it('uses TOOLHIVE_SECRETS_PASSWORD when the keyring has none', async () => {
    const get = passwordSource({ env: ENV_PASSWORD, keyring: noKeyring, interactive: true, prompt: refusePrompt });
    expect(await get({ creating: false })).toBe('from-env');
  });

  it('asks once at a terminal for an existing store, and twice for a new one', async () => {
    const existing = scriptedPrompt(['typed']);
    expect(await passwordSource({ env: {}, keyring: noKeyring, interactive: true, prompt: existing.prompt })({ creating: false })).toBe('typed');
    expect(existing.asked).toHaveLength(1);
    const created = scriptedPrompt(['new-pw', 'new-pw']);
    expect(await passwordSource({ env: {}, keyring: noKeyring, interactive: true, prompt: created.prompt })({ creating: true })).toBe('new-pw');
    expect(created.asked).toEqual(['New secrets password: ', 'Repeat the password: ']);
  });

  it('refuses two different new passwords', async () => {
    const { prompt } = scriptedPrompt(['one', 'two']);
    const err = await rejection(passwordSource({ env: {}, keyring: noKeyring, interactive: true, prompt })({ creating: true }));
    expect(err?.code).toBe('secrets_unavailable');
    expect(err?.message).toMatch(/do not match/);
  });

  it('remembers the answer, so a person types it once per command', async () => {
    const { prompt, asked } = scriptedPrompt(['typed']);
    const get = passwordSource({ env: {}, keyring: noKeyring, interactive: true, prompt });
    await get({ creating: false });
    await get({ creating: false });
    expect(asked).toHaveLength(1);
  });

  it('fails at once without a terminal or any source, with a hint that says how to give one', async () => {
    const err = await rejection(passwordSource({ env: {}, keyring: noKeyring, interactive: false, prompt: refusePrompt })({ creating: false }));
    expect(err).toBeInstanceOf(ThvError);
    expect(err?.code).toBe('secrets_unavailable');
    expect(err?.hint).toMatch(/TOOLHIVE_SECRETS_PASSWORD/);
    expect(err?.hint).toMatch(/thv secret setup/);
  });

  it('ignores an empty TOOLHIVE_SECRETS_PASSWORD', async () => {
    const err = await rejection(passwordSource({ env: { TOOLHIVE_SECRETS_PASSWORD: '' }, keyring: noKeyring, interactive: false, prompt: refusePrompt })({ creating: false }));
    expect(err?.code).toBe('secrets_unavailable');
  });
});

describe('the OS keyring guard', () => {
  const hanging: KeyringEntry = { getPassword: () => new Promise(() => undefined), setPassword: () => new Promise(() => undefined) };

  it('gives up on a keyring that never answers after its timeout', async () => {
    const keyring = osKeyring({ env: {}, load: async () => hanging, timeoutMs: 50 });
    // Both calls return at all (the keyring never answers): without the guard they would hang.
    expect(await keyring.read()).toBeUndefined();
    expect(await keyring.write('pw')).toBe(false);
  });

  it('gives up on a keyring module that never finishes loading', async () => {
    const keyring = osKeyring({ env: {}, load: () => new Promise(() => undefined), timeoutMs: 50 });
    expect(await keyring.read()).toBeUndefined();
  });

  it('treats a missing module or a failing daemon as "no keyring"', async () => {
    const missing = osKeyring({ env: {}, load: async () => { throw new Error("Cannot find package '@napi-rs/keyring'"); } });
    expect(await missing.read()).toBeUndefined();
    const failing = osKeyring({ env: {}, load: async () => ({ getPassword: async () => { throw new Error('no dbus'); }, setPassword: async () => { throw new Error('no dbus'); } }) });
    expect(await failing.read()).toBeUndefined();
    expect(await failing.write('pw')).toBe(false);
  });

  it('never loads the keyring when TOOLHIVE_NO_KEYRING=1', async () => {
    let loaded = false;
    const keyring = osKeyring({ env: { TOOLHIVE_NO_KEYRING: '1' }, load: async () => { loaded = true; return hanging; } });
    expect(await keyring.read()).toBeUndefined();
    expect(await keyring.write('pw')).toBe(false);
    expect(loaded).toBe(false);
  });

  it('passes an abort signal that fires when the keyring is too slow', async () => {
    let signal: AbortSignal | null | undefined;
    const slow: KeyringEntry = { getPassword: (s) => { signal = s; return new Promise(() => undefined); }, setPassword: async () => undefined };
    await osKeyring({ env: {}, load: async () => slow, timeoutMs: 20 }).read();
    expect(signal?.aborted).toBe(true);
  });

  it('returns what a working keyring holds', async () => {
    let stored: string | null = null;
    const entry: KeyringEntry = { getPassword: async () => stored, setPassword: async (pw) => { stored = pw; } };
    const keyring = osKeyring({ env: {}, load: async () => entry });
    expect(await keyring.read()).toBeUndefined();
    expect(await keyring.write('pw')).toBe(true);
    expect(await keyring.read()).toBe('pw');
  });
});
