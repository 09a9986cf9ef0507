import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, envDuration, envFlag, envLogLevel, envSecretNames, isThvCredentialVar } from '../../src/core/env.js';

function collect() {
  const warnings: string[] = [];
  return { warnings, onInvalid: (name: string, value: string) => void warnings.push(`${name}=${value}`) };
}

describe('environment variables: one on/off rule', () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'on', ' On '])('%j is on', (value) => {
    const { warnings, onInvalid } = collect();
    expect(envFlag({ TOOLHIVE_NON_INTERACTIVE: value }, 'TOOLHIVE_NON_INTERACTIVE', onInvalid)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it.each(['0', 'false', 'False', 'no', 'off', ''])('%j is off', (value) => {
    const { warnings, onInvalid } = collect();
    expect(envFlag({ TOOLHIVE_NO_KEYRING: value }, 'TOOLHIVE_NO_KEYRING', onInvalid)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('unset is off, silently', () => {
    const { warnings, onInvalid } = collect();
    expect(envFlag({}, 'TOOLHIVE_DEBUG', onInvalid)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('anything else is reported and the default (off) is used', () => {
    const { warnings, onInvalid } = collect();
    expect(envFlag({ TOOLHIVE_NON_INTERACTIVE: 'maybe' }, 'TOOLHIVE_NON_INTERACTIVE', onInvalid)).toBe(false);
    expect(warnings).toEqual(['TOOLHIVE_NON_INTERACTIVE=maybe']);
  });

  it('the debug variables follow the same rule', () => {
    expect(envLogLevel({ THV_DEBUG: 'yes' })).toBe('debug');
    expect(envLogLevel({ TOOLHIVE_DEBUG: 'off', TOOLHIVE_LOG_LEVEL: 'info' })).toBe('info');
    const { warnings, onInvalid } = collect();
    expect(envLogLevel({ TOOLHIVE_LOG_LEVEL: 'loud' }, onInvalid)).toBe('warn');
    expect(warnings).toEqual(['TOOLHIVE_LOG_LEVEL=loud']);
  });
});

describe('durations', () => {
  it('reads Go-style durations and reports an invalid one, keeping the default', () => {
    const { warnings, onInvalid } = collect();
    expect(envDuration({ TOOLHIVE_OAUTH_FLOW_TIMEOUT: '1m30s' }, 'TOOLHIVE_OAUTH_FLOW_TIMEOUT', 5, { onInvalid })).toBe(90_000);
    expect(envDuration({ TOOLHIVE_OAUTH_FLOW_TIMEOUT: 'soon' }, 'TOOLHIVE_OAUTH_FLOW_TIMEOUT', 5, { onInvalid })).toBe(5);
    expect(envDuration({ TOOLHIVE_OAUTH_FLOW_TIMEOUT: '0' }, 'TOOLHIVE_OAUTH_FLOW_TIMEOUT', 5, { onInvalid })).toBe(5);
    expect(envDuration({ TOOLHIVE_STARTUP_GRACE: '0' }, 'TOOLHIVE_STARTUP_GRACE', 5, { zeroAllowed: true, onInvalid })).toBe(0);
    expect(warnings).toEqual(['TOOLHIVE_OAUTH_FLOW_TIMEOUT=soon', 'TOOLHIVE_OAUTH_FLOW_TIMEOUT=0']);
  });
});

describe('credentials in the environment', () => {
  it('lists environment secrets and knows which variables no child may inherit', () => {
    expect(envSecretNames({ TOOLHIVE_SECRET_B: '2', TOOLHIVE_SECRET_A: '1', TOOLHIVE_SECRET_: 'x', OTHER: 'y' })).toEqual(['A', 'B']);
    expect(['TOOLHIVE_SECRETS_PASSWORD', 'THV_REGISTRY_TOKEN', 'TOOLHIVE_SECRET_GITHUB'].every(isThvCredentialVar)).toBe(true);
    expect(isThvCredentialVar('PATH')).toBe(false);
  });
});

describe('the README', () => {
  it('lists every variable thv reads, with its default', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((line) => line.startsWith('| `'));
    for (const v of ENV_VARS) {
      const row = rows.find((line) => line.startsWith(`| \`${v.name}\``));
      expect(row, v.name).toBeDefined();
      expect(row).toContain(v.default);
    }
  });
});
