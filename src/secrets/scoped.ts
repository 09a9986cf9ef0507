import { badRequest } from '../core/errors.js';
import { INTERNAL_PREFIX, assertSecretName, internalKey, isInternalKey } from './names.js';
import type { SecretScope, SecretsProvider } from './provider.js';

/** A view of `provider` whose names are mapped by `key` and whose listing is filtered by `visible`. */
function renamedView(
  provider: SecretsProvider,
  key: (name: string) => string,
  visible: (stored: string[]) => string[],
): SecretsProvider {
  return {
    type: provider.type,
    capabilities: provider.capabilities,
    get: async (name) => provider.get(key(name)),
    set: async (name, value) => provider.set(key(name), value),
    delete: async (name) => provider.delete(key(name)),
    list: async () => visible(await provider.list()),
    ...(provider.unlock ? { unlock: () => provider.unlock!() } : {}),
  };
}

/**
 * A view of `provider` in which `name` means `__thv_<scope>_<name>`: what thv's own code (refresh
 * tokens, workload credentials) reads and writes, out of sight of `thv secret list`.
 */
export function scopedSecrets(provider: SecretsProvider, scope: SecretScope): SecretsProvider {
  const prefix = internalKey(scope, '');
  return renamedView(
    provider,
    (name) => {
      assertSecretName(name);
      return internalKey(scope, name);
    },
    (stored) => stored.filter((n) => n.startsWith(prefix) && n.length > prefix.length).map((n) => n.slice(prefix.length)),
  );
}

/** The user's view (`thv secret …`, the REST API): thv's internal keys are neither shown nor reachable. */
export function userSecrets(provider: SecretsProvider): SecretsProvider {
  return renamedView(
    provider,
    (name) => {
      assertUserSecretName(name);
      return name;
    },
    (stored) => stored.filter((n) => !isInternalKey(n)),
  );
}

/** A name a user may use: valid, and not one of thv's internal keys. */
export function assertUserSecretName(name: string): void {
  assertSecretName(name);
  if (isInternalKey(name)) {
    throw badRequest(`secret names starting with ${INTERNAL_PREFIX} are reserved for thv`, 'Choose another name.');
  }
}
