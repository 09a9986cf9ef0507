import type { Config } from '../config/schema.js';
import { sha256Hex } from '../core/paths.js';

/**
 * The one URL that names the configured registry: token keys (login, logout, every read) and the
 * registry's disk cache path are all derived from it, so they can never disagree.
 */
export function registryIdentity(config: Config): string | undefined {
  const raw = (config.registry_api_url || config.registry_url || '').trim();
  return raw ? normaliseRegistryUrl(raw) : undefined;
}

/** Lower-case scheme and host, no fragment, no trailing slashes: `https://R.io/` and `https://r.io` are one registry. */
export function normaliseRegistryUrl(raw: string): string {
  try {
    const url = new URL(raw.trim());
    url.hash = '';
    const text = url.toString();
    return url.search ? text : text.replace(/\/+$/, '');
  } catch {
    return raw.trim();
  }
}

/** docs/auth.md#where-tokens-are-kept: `REGISTRY_OAUTH_` + the first 8 hex of sha256(url + "\0" + issuer). */
export function registryTokenKey(identity: string, issuer: string): string {
  return `REGISTRY_OAUTH_${sha256Hex(`${identity}\0${issuer}`).slice(0, 8)}`;
}
