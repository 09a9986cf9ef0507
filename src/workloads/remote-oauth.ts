import { readFile } from 'node:fs/promises';
import { ThvError } from '../core/errors.js';
import { parseGoDuration } from '../core/duration.js';
import { envFlag, envText } from '../core/env.js';
import type { SecretsProvider } from '../secrets/provider.js';
import type { RemoteCredentialsDeps } from './remote-credentials.js';
import { RunConfigStore } from './run-config-store.js';
import type { RunConfig } from './types.js';
import { flowTimeoutFromEnv } from '../auth/browser-flow.js';
import { headlessReason, systemOpener } from '../auth/opener.js';
import { monitorTimingsFromEnv } from '../auth/monitor.js';
import { checkClientMetadataUrl, createOAuthCredentials, type OAuthCredentials, type OAuthSettings } from '../auth/remote/index.js';
import { remoteAuthStateKey } from '../auth/remote/state.js';

/** Run-config field (workloads scope key) of the OAuth state, so `thv start` resolves it and `thv rm` deletes it. */
export const OAUTH_STATE_REF = 'oauth_state_ref';

/**
 * Builds the OAuth credentials of a remote workload inside its supervisor; the supervisor calls
 * `start()` once its proxy listens, and the stored session is resumed or a login begun in the
 * background. The browser opens unless --remote-auth-skip-browser was given, the starter is
 * non-interactive (TOOLHIVE_NON_INTERACTIVE, set by the REST API and by a CLI without a terminal) or
 * the machine is headless (CI, no display); the authorization URL is always in the status context and the log.
 */
export async function createWorkloadOAuthCredentials(config: RunConfig, deps: RemoteCredentialsDeps): Promise<OAuthCredentials> {
  const auth = config.remote_auth!;
  const { log, env } = deps;
  const key = remoteAuthStateKey(config.name);
  const store = await openWorkloadSecrets(deps);
  let stored = deps.secretValues[key];
  if (store) {
    stored = (await store.get(key).catch((err: Error) => {
      log.warn({ err: err.message }, 'could not read the stored OAuth session');
      return undefined;
    })) ?? stored;
  }
  let warnedUnsaved = false;
  let refRecorded = (auth as Record<string, unknown>)[OAUTH_STATE_REF] === key;
  const save = async (raw: string) => {
    if (!store) {
      if (!warnedUnsaved) log.warn('the secrets store cannot be opened without a prompt here; the OAuth session is kept in memory only');
      warnedUnsaved = true;
      return;
    }
    await store.set(key, raw);
    if (!refRecorded) {
      refRecorded = true;
      await recordStateRef(config.name, key, deps).catch((err: Error) => log.warn({ err: err.message }, 'could not record the OAuth session in the run config'));
    }
  };
  // Never a browser from a headless process (docs/remote-auth.md#headless-machines): the starter
  // sets TOOLHIVE_NON_INTERACTIVE when no person is at its terminal; CI and a missing display are seen here.
  const headless = auth.skip_browser ? '--remote-auth-skip-browser' : envFlag(env, 'TOOLHIVE_NON_INTERACTIVE') ? 'non-interactive' : headlessReason(env);
  if (headless) log.info({ reason: headless }, 'no browser is opened for the OAuth login; the URL is in the status and this log');
  const interactive = !headless;
  return createOAuthCredentials({
    workload: config.name,
    serverUrl: config.remote_url!,
    settings: await settingsOf(config, deps),
    stored,
    save,
    ...(interactive ? { opener: systemOpener(env) } : {}),
    onStatus: (status, context) => deps.onStatus(status, context),
    clock: deps.clock,
    log,
    timings: monitorTimingsFromEnv(env, (name, value) => log.warn({ name, given: value }, 'ignoring an invalid duration')),
  });
}

async function settingsOf(config: RunConfig, deps: RemoteCredentialsDeps): Promise<OAuthSettings> {
  const auth = config.remote_auth!;
  let clientSecret: string | undefined;
  if (auth.client_secret_ref) clientSecret = deps.secretValues[auth.client_secret_ref];
  else if (auth.client_secret_file) {
    try {
      clientSecret = (await readFile(auth.client_secret_file, 'utf8')).trim();
    } catch (err) {
      throw new ThvError('auth_failed', `cannot read the client secret file ${auth.client_secret_file}`, { cause: err });
    }
  }
  const timeoutMs = loginTimeoutMs(config, deps.env, () => deps.log.warn({ given: auth.timeout }, 'ignoring an invalid --remote-auth-timeout'));
  // thv's Client ID Metadata Document (docs/remote-auth.md#client-id-metadata-document).
  const metadataUrl = envText(deps.env, 'TOOLHIVE_CLIENT_METADATA_URL');
  const clientMetadataUrl = metadataUrl ? checkClientMetadataUrl(metadataUrl) : undefined;
  return {
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.client_id ? { clientId: auth.client_id } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(auth.scopes?.length ? { scopes: auth.scopes } : {}),
    ...(auth.resource ? { resource: auth.resource } : {}),
    ...(auth.callback_port !== undefined ? { callbackPort: auth.callback_port } : {}),
    timeoutMs,
    ...(clientMetadataUrl ? { clientMetadataUrl } : {}),
  };
}

/** How long a browser login may take: --remote-auth-timeout, else TOOLHIVE_OAUTH_FLOW_TIMEOUT, else 2 m. */
export function loginTimeoutMs(config: RunConfig, env: NodeJS.ProcessEnv, onInvalid: () => void = () => undefined): number {
  const given = config.remote_auth?.timeout;
  if (given) {
    const parsed = parseGoDuration(given);
    if (parsed !== undefined && parsed > 0) return parsed;
    onInvalid();
  }
  return flowTimeoutFromEnv(env);
}

/** The supervisor never prompts: the store opens from the keyring or TOOLHIVE_SECRETS_PASSWORD, or not at all. */
async function openWorkloadSecrets(deps: RemoteCredentialsDeps): Promise<SecretsProvider | undefined> {
  try {
    const [{ openSecretsProvider, scopedSecrets }, { ConfigStore }] = await Promise.all([
      import('../secrets/index.js'),
      import('../config/store.js'),
    ]);
    const config = await new ConfigStore(deps.paths.configFile).load();
    const provider = await openSecretsProvider({ paths: deps.paths, env: deps.env, config, interactive: false });
    if (!provider.capabilities.canWrite) return undefined;
    const scoped = scopedSecrets(provider, 'workloads');
    await scoped.list();
    return scoped;
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'the secrets store is not available to the supervisor');
    return undefined;
  }
}

/** Exported for tests. Under the run config's update lock: `thv group`, the port record and this must not lose each other's change. */
export async function recordStateRef(name: string, key: string, deps: Pick<RemoteCredentialsDeps, 'paths'>): Promise<void> {
  await new RunConfigStore(deps.paths).update(name, (latest) =>
    latest.remote_auth ? { ...latest, remote_auth: { ...latest.remote_auth, [OAUTH_STATE_REF]: key } } : latest,
  );
}
