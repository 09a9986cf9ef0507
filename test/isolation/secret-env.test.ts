import { describe, expect, it } from 'vitest';
import { isSecretEnvName, scrubSecretEnv } from '../../src/isolation/secret-env.js';

describe('secret environment variables', () => {
  it('recognises thv, forge and cloud credentials', () => {
    for (const name of ['TOOLHIVE_SECRETS_PASSWORD', 'THV_REGISTRY_TOKEN', 'TOOLHIVE_SECRET_github', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_CLIENT_SECRET', 'SLACK_BOT_TOKEN', 'DB_PASSWORD', 'OPENAI_API_KEY', 'MY_SECRET', 'SSH_AUTH_SOCK']) {
      expect(isSecretEnvName(name), name).toBe(true);
    }
    for (const name of ['PATH', 'HOME', 'TOOLHIVE_SECRETS_PROVIDER', 'TOOLHIVE_STARTUP_GRACE', 'XDG_DATA_HOME', 'HTTP_PROXY', 'NODE_EXTRA_CA_CERTS', 'LANG']) {
      expect(isSecretEnvName(name), name).toBe(false);
    }
  });

  it('scrubs a copy and leaves the rest', () => {
    const env = { PATH: '/usr/bin', GITHUB_TOKEN: 'ghp_x', XDG_DATA_HOME: '/d' };
    expect(scrubSecretEnv(env)).toEqual({ PATH: '/usr/bin', XDG_DATA_HOME: '/d' });
    expect(env.GITHUB_TOKEN).toBe('ghp_x');
  });
});
