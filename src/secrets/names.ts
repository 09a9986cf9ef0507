import { checkName } from '../core/names.js';
import type { SecretScope } from './provider.js';

/** Every key thv keeps for itself starts with this; the user's view never shows or touches them. */
export const INTERNAL_PREFIX = '__thv_';

export { MAX_SECRET_NAME_LENGTH } from '../core/names.js';

export function internalKey(scope: SecretScope, name: string): string {
  return `${INTERNAL_PREFIX}${scope}_${name}`;
}

export function isInternalKey(name: string): boolean {
  return name.startsWith(INTERNAL_PREFIX);
}

/** Names travel through argv, env var names and tables: the one validator's `secret` rule. */
export function assertSecretName(name: string): void {
  checkName('secret', name);
}
