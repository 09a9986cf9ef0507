import { badRequest } from '../core/errors.js';
import type { SecretScope } from './provider.js';

/** Every key thv keeps for itself starts with this; the user's view never shows or touches them. */
export const INTERNAL_PREFIX = '__thv_';

export const MAX_SECRET_NAME_LENGTH = 256;

export function internalKey(scope: SecretScope, name: string): string {
  return `${INTERNAL_PREFIX}${scope}_${name}`;
}

export function isInternalKey(name: string): boolean {
  return name.startsWith(INTERNAL_PREFIX);
}

/**
 * Names travel through argv, env var names (`TOOLHIVE_SECRET_<NAME>`) and tables, so whitespace,
 * control characters and `=` are refused everywhere rather than by one provider only.
 */
export function assertSecretName(name: string): void {
  if (name.length === 0) throw badRequest('a secret name must not be empty');
  if (name.length > MAX_SECRET_NAME_LENGTH) {
    throw badRequest(`a secret name must be at most ${MAX_SECRET_NAME_LENGTH} characters`);
  }
  if (/[\s\x00-\x1f\x7f=]/.test(name)) {
    throw badRequest('a secret name must not contain whitespace, control characters or "="');
  }
}
