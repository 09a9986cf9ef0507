import type { RegistryAuthDeps } from '../auth/registry-auth.js';
import type { ApiDeps } from './deps.js';
import type { LoginAttempt } from './login-session.js';

/**
 * The CLI's own login and logout (src/auth/registry-auth.ts), called the way the API needs them:
 * non-interactive, never opening a browser, and nothing printed to the server's stderr.
 */
async function authDeps(deps: ApiDeps): Promise<RegistryAuthDeps> {
  const configStore = deps.registry.configStore;
  return {
    config: await configStore.load(),
    configStore,
    paths: deps.paths,
    env: deps.env,
    interactive: false,
    err: () => undefined,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
}

/** Binds the loopback callback and returns the authorization URL; tokens are stored on completion. */
export async function startRegistryLogin(deps: ApiDeps): Promise<LoginAttempt> {
  const { startRegistryLogin: start } = await import('../auth/registry-auth.js');
  const pending = await start(await authDeps(deps));
  return { authorizationUrl: pending.authorizationUrl, completion: pending.completion, cancel: () => pending.cancel() };
}

/** As `thv registry logout`, then drops what the long-lived registry service holds in memory. */
export async function logoutRegistry(deps: ApiDeps): Promise<void> {
  const { registryLogout } = await import('../auth/registry-auth.js');
  await registryLogout(await authDeps(deps));
  await deps.registry.clearCache();
}
