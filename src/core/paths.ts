import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { envText } from './env.js';

/** Every file location (docs/architecture.md#files-on-disk), derived from the XDG variables of one environment. */
export interface Paths {
  configFile: string;
  configDir: string;
  cacheDir: string;
  dataDir: string;
  stateDir: string;
  secretsFile: string;
  statusesDir: string;
  logsDir: string;
  runConfigsDir: string;
  groupsDir: string;
  registryCacheFile(apiUrl: string): string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const home = envText(env, 'HOME') ?? homedir();
  const base = (name: 'XDG_CONFIG_HOME' | 'XDG_CACHE_HOME' | 'XDG_DATA_HOME' | 'XDG_STATE_HOME', fallback: string) => {
    const value = envText(env, name);
    return value && value.startsWith('/') ? value : join(home, fallback);
  };
  const configDir = join(base('XDG_CONFIG_HOME', '.config'), 'toolhive');
  const cacheDir = join(base('XDG_CACHE_HOME', '.cache'), 'toolhive', 'cache');
  const dataDir = join(base('XDG_DATA_HOME', '.local/share'), 'toolhive');
  const stateDir = join(base('XDG_STATE_HOME', '.local/state'), 'toolhive');
  return {
    configDir,
    configFile: join(configDir, 'config.yaml'),
    cacheDir,
    dataDir,
    stateDir,
    secretsFile: join(dataDir, 'secrets_encrypted'),
    statusesDir: join(dataDir, 'statuses'),
    logsDir: join(dataDir, 'logs'),
    runConfigsDir: join(stateDir, 'runconfigs'),
    groupsDir: join(stateDir, 'groups'),
    registryCacheFile: (apiUrl: string) => join(cacheDir, `registry-${sha256Hex(apiUrl).slice(0, 8)}.json`),
  };
}

/** node:crypto is loaded on first use: `thv list` never needs it, and it costs start-up time (docs/architecture.md#start-up). */
let crypto: typeof import('node:crypto') | undefined;

export function sha256Hex(text: string): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256').update(text).digest('hex');
}
