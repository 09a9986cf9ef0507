import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { systemClock, type Clock } from '../core/clock.js';
import { RegistryAuthRequiredError, ThvError, isThvError } from '../core/errors.js';
import { withFileLock } from '../core/files.js';
import { log } from '../core/log.js';
import type { Paths } from '../core/paths.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { readBearerToken } from './bearer.js';
import { beginAuthorization, flowTimeoutFromEnv, runBrowserFlow, type AuthorizationRequest } from './browser-flow.js';
import { refreshTokens, revokeToken, type PublicClient } from './oauth-client.js';
import { discoverIssuer, type IssuerMetadata } from './oidc-discovery.js';
import { systemOpener, type UrlOpener } from './opener.js';
import { registryIdentity, registryTokenKey } from './registry-identity.js';
import { checkCallbackPort, oauthSettingsFrom, validateRegistryAuthSettings, type OAuthSettings } from './registry-settings.js';
import { OAuthTokenSource, UNKNOWN_LIFETIME_MS } from './token-source.js';
import { RegistrySessionStore } from './token-store.js';

export interface RegistryAuthDeps {
  config: Config;
  configStore: ConfigStore;
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** May this process start a browser flow on its own (a person at a TTY)? */
  interactive: boolean;
  fetch?: typeof fetch;
  clock?: Clock;
  opener?: UrlOpener;
  /** Where the authorization URL is printed; stderr by default. */
  err?: (text: string) => void;
  /** An already-open secrets provider (unscoped); opened from config when absent. */
  secrets?: SecretsProvider;
}

export interface RegistryAuthorizer {
  /** `Bearer <token>`; throws RegistryAuthRequiredError (with a cause) when no token can be had. */
  authorizationHeader(): Promise<string>;
  /** The registry refused the token (401/403): forget the cached access token so the next call refreshes. */
  invalidate(): Promise<void>;
}

/**
 * Stores a new registry location the way `thv config set-registry` does (the registry service's
 * `setRegistry`). Passed in by the caller: the registry layer sits above auth and auth never imports
 * it (docs/architecture.md#layers).
 */
export type SetRegistry = (input: {
  location: string;
  allowPrivateIp: boolean;
  auth?: { issuer: string; clientId: string; audience?: string; scopes?: string[]; callbackPort?: number };
}) => Promise<void>;

export interface LoginOverrides {
  registry?: string;
  issuer?: string;
  clientId?: string;
  audience?: string;
  scopes?: string[];
  callbackPort?: number;
}

/**
 * Bumped by every login and logout of a session key in this process, so that a long-lived
 * authorizer (the REST API's registry service) drops the token it holds in memory at once.
 */
const sessionGenerations = new Map<string, number>();

function endSessionsInMemory(key: string): void {
  sessionGenerations.set(key, (sessionGenerations.get(key) ?? 0) + 1);
}

const CALLBACK_PORT_HINT = '--callback-port (or registry_auth.oauth.callback_port in the config)';

/** The authorizer for the configured registry; undefined when `registry_auth.type` is unset or ''. */
export function createRegistryAuthorizer(deps: RegistryAuthDeps): RegistryAuthorizer | undefined {
  const type = deps.config.registry_auth?.type;
  if (!type) return undefined;
  if (type === 'bearer') {
    return {
      authorizationHeader: async () => `Bearer ${await readBearerToken(deps.config, deps.env)}`,
      invalidate: async () => undefined,
    };
  }
  const settings = oauthSettingsFrom(deps.config.registry_auth?.oauth);
  const identity = registryIdentity(deps.config);
  if (!settings || !identity) {
    const cause = new ThvError(
      'config_invalid',
      !identity ? 'registry_auth is set but no registry URL is configured' : 'registry_auth.type is oauth but the issuer or client id is missing',
    );
    return {
      authorizationHeader: async () => {
        throw new RegistryAuthRequiredError('registry authentication required', {
          cause,
          hint: 'Run `thv config set-registry <url> --issuer <url> --client-id <id>` to configure OAuth for the registry.',
        });
      },
      invalidate: async () => undefined,
    };
  }
  const session = registrySession(deps, settings, identity);
  const source = new OAuthTokenSource({
    store: session.store,
    lockFile: session.lockFile,
    clock: session.clock,
    refresh: async (refreshToken) => refreshTokens(await session.client(), refreshToken),
    // A logout or login by another process (`thv registry logout` next to `thv serve`).
    persistedVersion: () => session.store.version(),
    ...(deps.interactive
      ? { login: async () => runBrowserFlow(await session.flowRequest(settings.callbackPort), session.io()) }
      : {}),
  });
  let generation = sessionGenerations.get(session.key) ?? 0;
  return {
    // The error's message is fixed (docs/registry.md#caching-what-a-failing-registry-looks-like); its cause says why (the CLI prints it below).
    async authorizationHeader() {
      const current = sessionGenerations.get(session.key) ?? 0;
      if (current !== generation) {
        generation = current;
        source.invalidate();
      }
      return `Bearer ${await source.accessToken()}`;
    },
    async invalidate() {
      source.invalidate();
      await withFileLock(session.lockFile, async () => {
        const secrets = await session.secrets();
        await secrets.delete(session.store.accessKey);
      }).catch(() => undefined);
    },
  };
}

export type RegistryAuthStatus = 'none' | 'configured' | 'authenticated';

/** For `registry info` and the API: never prompts, never refreshes, never opens anything. */
export async function registryAuthStatus(deps: RegistryAuthDeps): Promise<RegistryAuthStatus> {
  const type = deps.config.registry_auth?.type;
  if (!type) return 'none';
  if (type === 'bearer') {
    return readBearerToken(deps.config, deps.env).then(
      () => 'authenticated' as const,
      () => 'configured' as const,
    );
  }
  const settings = oauthSettingsFrom(deps.config.registry_auth?.oauth);
  const identity = registryIdentity(deps.config);
  if (!settings || !identity) return 'configured';
  try {
    const stored = await registrySession({ ...deps, interactive: false }, settings, identity).store.load();
    const now = (deps.clock ?? systemClock).now();
    return stored.refreshToken || (stored.accessToken && (stored.expiresAt ?? 0) > now) ? 'authenticated' : 'configured';
  } catch {
    return 'configured';
  }
}

export interface LoginOutcome {
  /** False when the IdP gave no refresh token: the session then ends when the access token expires. */
  refreshTokenIssued: boolean;
  expiresAt: number;
}

/** A login started but not finished: the REST API hands `authorizationUrl` to a UI. */
export interface PendingRegistryLogin {
  authorizationUrl: string;
  /** Resolves once the tokens are stored; rejects with the reason the login failed. */
  completion: Promise<void>;
  /** As `completion`, with what the IdP gave. */
  outcome: Promise<LoginOutcome>;
  cancel(): void;
}

/**
 * Starts the browser flow for the registry (applying and storing any overrides first) without
 * opening a browser. Fails before binding the port when the settings or the secrets store are not
 * usable, so a user never completes a login whose tokens cannot be kept.
 */
export async function startRegistryLogin(deps: RegistryAuthDeps & { overrides?: LoginOverrides; setRegistry?: SetRegistry }): Promise<PendingRegistryLogin> {
  const config = await applyOverrides(deps);
  const identity = registryIdentity(config);
  if (!identity) {
    throw new ThvError('bad_request', 'no remote registry is configured, so there is nothing to log in to', {
      hint: 'Run `thv config set-registry <url> --issuer <url> --client-id <id>`, or pass --registry, --issuer and --client-id.',
    });
  }
  const settings = oauthSettingsFrom(config.registry_auth?.oauth);
  if (config.registry_auth?.type !== 'oauth' || !settings) {
    throw new ThvError('bad_request', 'the registry has no OAuth settings (issuer and client id)', {
      hint: 'Run `thv config set-registry <url> --issuer <url> --client-id <id>`, or pass --issuer and --client-id.',
    });
  }
  const session = registrySession({ ...deps, config }, settings, identity);
  const secrets = await session.secrets();
  if (!secrets.capabilities.canWrite) {
    throw new ThvError('secrets_unavailable', `the ${secrets.type} secrets provider is read-only, so the registry's refresh token cannot be stored`, {
      hint: 'Switch to the encrypted provider with `thv secret setup`.',
    });
  }
  const port = checkCallbackPort(deps.overrides?.callbackPort ?? settings.callbackPort, true);
  const pending = await beginAuthorization(await session.flowRequest(port));
  const outcome = pending.result.then(async (tokens): Promise<LoginOutcome> => {
    const stored = { ...tokens, expiresAt: tokens.expiresAt ?? session.clock.now() + UNKNOWN_LIFETIME_MS };
    await withFileLock(session.lockFile, () => session.store.save(stored, { fromLogin: true }));
    endSessionsInMemory(session.key);
    return { refreshTokenIssued: Boolean(tokens.refreshToken), expiresAt: stored.expiresAt };
  });
  const completion = outcome.then(() => undefined);
  outcome.catch(() => undefined);
  completion.catch(() => undefined);
  return { authorizationUrl: pending.authorizationUrl, completion, outcome, cancel: () => pending.cancel() };
}

/** `thv registry login`: always runs the browser flow, TTY or not — it is the user's explicit request. */
export async function registryLogin(deps: RegistryAuthDeps & { overrides?: LoginOverrides; setRegistry?: SetRegistry }): Promise<LoginOutcome> {
  const err = deps.err ?? ((text: string) => void process.stderr.write(text));
  const opener = deps.opener ?? systemOpener(deps.env);
  try {
    const pending = await startRegistryLogin(deps);
    err(`Opening your browser to log in. If it does not open, visit this URL:\n\n  ${pending.authorizationUrl}\n\n`);
    await opener(pending.authorizationUrl).catch((e: unknown) =>
      log().warn({ error: e instanceof Error ? e.message : String(e) }, 'could not open a browser; open the URL shown above'),
    );
    const outcome = await pending.outcome;
    if (!outcome.refreshTokenIssued) {
      err(
        'Warning: the identity provider issued no refresh token, so you will need to log in again when the access token expires ' +
          `(${new Date(outcome.expiresAt).toISOString()}). Some providers issue one only when offline_access is allowed for the client.\n`,
      );
    }
    return outcome;
  } catch (e) {
    if (isThvError(e) && ['bad_request', 'port_in_use', 'secrets_unavailable', 'secrets_locked', 'secrets_corrupt', 'config_invalid'].includes(e.code)) throw e;
    // The reason is the message itself, so the CLI does not print it twice.
    const reason = e instanceof Error ? e.message : String(e);
    throw new RegistryAuthRequiredError(reason, {
      cause: e,
      hint: (isThvError(e) && e.hint) || 'Run `thv registry login` to try again.',
    });
  }
}

export interface LogoutResult {
  /** Stored tokens were found and removed. */
  removedTokens: boolean;
  /** The IdP confirmed the refresh token's revocation (RFC 7009). */
  revoked: boolean;
}

/**
 * Deletes the registry's tokens and disk cache and the cached token fields of the config, keeping
 * the OAuth settings so `thv registry login` works again without flags; revokes the refresh token
 * where the IdP offers revocation (best effort: a logout must not fail because the IdP is down).
 */
export async function registryLogout(deps: RegistryAuthDeps): Promise<LogoutResult> {
  const config = deps.config;
  const identity = registryIdentity(config);
  const oauth = config.registry_auth?.oauth;
  const keys = new Set<string>();
  if (identity && oauth?.issuer) keys.add(registryTokenKey(identity, oauth.issuer));
  if (oauth?.cached_refresh_token_ref) keys.add(oauth.cached_refresh_token_ref);
  const refreshTokensFound: string[] = [];
  let secretsFailure: unknown;
  if (keys.size > 0) {
    try {
      const secrets = await openRegistrySecrets(deps);
      for (const key of keys) {
        const store = new RegistrySessionStore({ key, secrets: async () => secrets, configStore: deps.configStore });
        const token = await withFileLock(lockFileFor(deps.paths, key), () => store.clear());
        if (token) refreshTokensFound.push(token);
      }
    } catch (err) {
      secretsFailure = err;
    }
  }
  for (const key of keys) endSessionsInMemory(key);
  if (oauth?.cached_refresh_token_ref !== undefined || oauth?.cached_token_expiry !== undefined) {
    await deps.configStore.update((draft) => {
      delete draft.registry_auth?.oauth?.cached_refresh_token_ref;
      delete draft.registry_auth?.oauth?.cached_token_expiry;
    });
  }
  if (identity) await rm(deps.paths.registryCacheFile(identity), { force: true });
  let revoked = false;
  const settings = oauthSettingsFrom(oauth);
  if (settings && refreshTokensFound.length > 0) {
    try {
      const client: PublicClient = {
        issuer: await discoverIssuer(settings.issuer, deps.fetch ? { fetch: deps.fetch } : {}),
        clientId: settings.clientId,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      };
      for (const token of refreshTokensFound) revoked = (await revokeToken(client, token, 'refresh_token')) || revoked;
    } catch (err) {
      log().warn(`could not revoke the refresh token at the identity provider: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (secretsFailure !== undefined) {
    const reason = secretsFailure instanceof Error ? secretsFailure.message : String(secretsFailure);
    throw new ThvError(isThvError(secretsFailure) ? secretsFailure.code : 'secrets_unavailable', `could not remove the registry tokens from the secrets store: ${reason}`, {
      cause: secretsFailure,
      hint: isThvError(secretsFailure) && secretsFailure.hint ? secretsFailure.hint : 'Unlock the secrets store and run `thv registry logout` again.',
    });
  }
  return { removedTokens: refreshTokensFound.length > 0, revoked };
}

export { validateRegistryAuthSettings } from './registry-settings.js';

function lockFileFor(paths: Paths, key: string): string {
  return join(paths.stateDir, 'locks', key);
}

async function openRegistrySecrets(deps: RegistryAuthDeps): Promise<SecretsProvider> {
  const { openSecretsProvider, scopedSecrets } = await import('../secrets/index.js');
  const raw =
    deps.secrets ?? (await openSecretsProvider({ paths: deps.paths, env: deps.env, config: deps.config, interactive: deps.interactive }));
  await raw.unlock?.();
  return scopedSecrets(raw, 'registry');
}

/** Everything one registry's OAuth session needs, built once per call site. */
function registrySession(deps: RegistryAuthDeps, settings: OAuthSettings, identity: string) {
  const key = registryTokenKey(identity, settings.issuer);
  const clock = deps.clock ?? systemClock;
  let secrets: Promise<SecretsProvider> | undefined;
  const openSecrets = () => {
    secrets ??= openRegistrySecrets(deps).catch((err: unknown) => {
      secrets = undefined;
      throw err;
    });
    return secrets;
  };
  let metadata: Promise<IssuerMetadata> | undefined;
  const discover = () => {
    metadata ??= discoverIssuer(settings.issuer, deps.fetch ? { fetch: deps.fetch } : {}).catch((err: unknown) => {
      metadata = undefined;
      throw err;
    });
    return metadata;
  };
  const client = async (): Promise<PublicClient> => ({
    issuer: await discover(),
    clientId: settings.clientId,
    now: () => clock.now(),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  return {
    key,
    clock,
    secrets: openSecrets,
    client,
    lockFile: lockFileFor(deps.paths, key),
    store: new RegistrySessionStore({ key, secrets: openSecrets, configStore: deps.configStore }),
    async flowRequest(callbackPort: number): Promise<AuthorizationRequest> {
      return {
        issuer: await discover(),
        clientId: settings.clientId,
        scopes: settings.scopes,
        ...(settings.audience ? { audience: settings.audience } : {}),
        callbackPort,
        portHint: CALLBACK_PORT_HINT,
        timeoutMs: flowTimeoutFromEnv(deps.env),
        clock,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      };
    },
    io() {
      return {
        opener: deps.opener ?? systemOpener(deps.env),
        err: deps.err ?? ((text: string) => void process.stderr.write(text)),
      };
    },
  };
}

/**
 * Applies `thv registry login --registry/--issuer/…` to the config and returns it. A new registry
 * goes through the registry service, so it gets the same checks as `thv config set-registry`
 * (type detection, no plain-http or private addresses unless the config already allows them).
 */
async function applyOverrides(deps: RegistryAuthDeps & { overrides?: LoginOverrides; setRegistry?: SetRegistry }): Promise<Config> {
  const o = deps.overrides ?? {};
  const changesAuth = [o.issuer, o.clientId, o.audience, o.scopes].some((v) => v !== undefined);
  if (o.registry === undefined && !changesAuth) return deps.config;
  const current = deps.config.registry_auth?.oauth ?? {};
  const issuer = o.issuer ?? current.issuer;
  const clientId = o.clientId ?? current.client_id;
  const audience = o.audience ?? current.audience;
  const scopes = o.scopes ?? current.scopes;
  if (changesAuth && (!issuer || !clientId)) {
    throw new ThvError('bad_request', 'the OAuth issuer and client id must be given together', { hint: 'Pass both --issuer and --client-id.' });
  }
  const auth =
    issuer && clientId
      ? {
          issuer,
          clientId,
          ...(audience ? { audience } : {}),
          ...(scopes ? { scopes } : {}),
          ...(current.callback_port !== undefined ? { callbackPort: current.callback_port } : {}),
        }
      : undefined;
  if (o.registry !== undefined) {
    if (!deps.setRegistry) throw new ThvError('internal', 'a registry override needs the registry service (setRegistry)');
    await deps.setRegistry({
      location: o.registry,
      allowPrivateIp: Boolean(deps.config.allow_private_registry_ip),
      ...(changesAuth && auth ? { auth } : {}),
    });
    return deps.configStore.load();
  }
  const block = await validateRegistryAuthSettings(auth!, deps.fetch ? { fetch: deps.fetch } : {});
  return deps.configStore.update((draft) => {
    draft.registry_auth = { ...draft.registry_auth, ...block, oauth: { ...draft.registry_auth?.oauth, ...block.oauth } };
  });
}
