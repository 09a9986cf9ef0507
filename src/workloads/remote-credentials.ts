import { readFile } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Paths } from '../core/paths.js';
import { ThvError } from '../core/errors.js';
import { staticCredentials, type UpstreamCredentials } from '../transport/upstream-credentials.js';
import type { RunConfig, WorkloadStatus } from './types.js';

export interface RemoteCredentialsDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Logger;
  /**
   * Values of the secrets-store keys the run config references (`remote_auth.*_ref`), resolved by the
   * process that started the supervisor and handed over on its stdin; never written to disk.
   */
  secretValues: Record<string, string>;
  /** Moves the workload to `auth_retrying`, `unauthenticated` or back to `running`; the context must hold no secret. */
  onStatus(status: WorkloadStatus, context: string): void;
}

/**
 * The upstream credentials of a remote workload (docs/remote-auth.md): a static bearer token (from the secrets
 * store or a file), or remote OAuth, whose login and token monitor run after the supervisor calls
 * `start()`.
 */
export async function createRemoteCredentials(config: RunConfig, deps: RemoteCredentialsDeps): Promise<UpstreamCredentials | undefined> {
  const auth = config.remote_auth;
  if (!auth) return undefined;
  if (auth.bearer_token_ref) {
    const token = deps.secretValues[auth.bearer_token_ref];
    if (!token) {
      throw new ThvError('auth_failed', `the bearer token of workload "${config.name}" is missing from the secrets store`, {
        hint: `Run the workload again with --remote-auth-bearer-token.`,
      });
    }
    return staticCredentials({ authorization: `Bearer ${token}` });
  }
  if (auth.bearer_token_file) {
    let token: string;
    try {
      token = (await readFile(auth.bearer_token_file, 'utf8')).trim();
    } catch (err) {
      throw new ThvError('auth_failed', `cannot read the bearer token file ${auth.bearer_token_file}`, { cause: err });
    }
    if (!token) throw new ThvError('auth_failed', `the bearer token file ${auth.bearer_token_file} is empty`);
    return staticCredentials({ authorization: `Bearer ${token}` });
  }
  if (auth.enabled) {
    const { createWorkloadOAuthCredentials } = await import('./remote-oauth.js');
    return createWorkloadOAuthCredentials(config, deps);
  }
  return undefined;
}
