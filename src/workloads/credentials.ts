import { ThvError, notFound } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SecretsProvider } from '../secrets/provider.js';
import type { StoredCredential } from './run-request.js';
import type { SupervisorSecrets } from './supervisor-types.js';
import type { RemoteAuthConfig, RunConfig } from './types.js';

/**
 * The secrets of workloads: `--secret` values read at start, and credentials (remote-auth secrets,
 * credential headers) kept in the secrets store's workloads scope, referenced from the run config by
 * key only (docs/workloads.md).
 */
export class WorkloadCredentials {
  constructor(
    /** The raw secrets provider, opened only when a workload has secrets. */
    private readonly openSecrets: (() => Promise<SecretsProvider>) | undefined,
    private readonly log: () => Logger,
  ) {}

  /** Resolves `--secret` and credential references now; the values go to the supervisor only. */
  async resolve(config: RunConfig): Promise<SupervisorSecrets> {
    const refs = credentialRefs(config);
    if (config.secrets.length === 0 && refs.length === 0) return { env: {}, values: {} };
    if (!this.openSecrets) throw new ThvError('secrets_unavailable', 'this workload needs secrets, but no secrets store is available');
    const { userSecrets, scopedSecrets } = await import('../secrets/index.js');
    const provider = await this.openSecrets();
    const user = userSecrets(provider);
    const env: Record<string, string> = {};
    for (const { name, target } of config.secrets) {
      const value = await user.get(name);
      if (value === undefined) {
        throw notFound(`secret "${name}" (for ${target}) is not in the secrets store`, `Set it with \`thv secret set ${name}\`.`);
      }
      env[target] = value;
    }
    const values: Record<string, string> = {};
    const scoped = scopedSecrets(provider, 'workloads');
    for (const ref of refs) {
      const value = await scoped.get(ref);
      if (value !== undefined) values[ref] = value;
    }
    for (const [header, ref] of Object.entries(config.header_refs ?? {})) {
      if (values[ref] === undefined) {
        throw notFound(`the stored value of header "${header}" of workload "${config.name}" is missing from the secrets store`, `Remove the workload with \`thv rm ${config.name}\` and run it again.`);
      }
    }
    return { env, values };
  }

  /** Stores all of them or none. */
  async store(credentials: StoredCredential[]): Promise<void> {
    if (credentials.length === 0) return;
    if (!this.openSecrets) throw new ThvError('secrets_unavailable', 'no secrets store is available to keep the credential');
    const { scopedSecrets } = await import('../secrets/index.js');
    const store = scopedSecrets(await this.openSecrets(), 'workloads');
    const stored: string[] = [];
    try {
      for (const { key, value } of credentials) {
        await store.set(key, value);
        stored.push(key);
      }
    } catch (err) {
      for (const key of stored) await store.delete(key).catch(() => undefined);
      throw err;
    }
  }

  /** Best effort: a store that cannot be opened leaves a warning, not a workload that cannot be removed. */
  async deleteFor(config: RunConfig): Promise<void> {
    const refs = credentialRefs(config);
    if (refs.length === 0 || !this.openSecrets) return;
    try {
      const { scopedSecrets } = await import('../secrets/index.js');
      const store = scopedSecrets(await this.openSecrets(), 'workloads');
      for (const ref of refs) await store.delete(ref);
    } catch (err) {
      this.log().warn({ workload: config.name, err: (err as Error).message }, 'could not delete the stored credentials of the workload');
    }
  }
}

/** Every secrets-store key (workloads scope) a run config refers to. */
export function credentialRefs(config: RunConfig): string[] {
  return [...remoteAuthRefs(config.remote_auth), ...Object.values(config.header_refs ?? {})];
}

function remoteAuthRefs(auth: RemoteAuthConfig | undefined): string[] {
  if (!auth) return [];
  return Object.entries(auth)
    .filter(([key, value]) => key.endsWith('_ref') && typeof value === 'string')
    .map(([, value]) => value as string);
}
