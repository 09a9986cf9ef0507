import type { Config, OAuthConfig } from '../config/schema.js';
import { ThvError } from '../core/errors.js';
import { DEFAULT_CALLBACK_PORT } from './browser-flow.js';
import { discoverIssuer } from './oidc-discovery.js';

export const DEFAULT_SCOPES = ['openid', 'offline_access'];

export interface RegistryAuthInput {
  issuer?: string;
  clientId?: string;
  audience?: string;
  scopes?: string[];
  callbackPort?: number;
}

/** The OAuth settings of the registry as the flow uses them, with defaults applied. */
export interface OAuthSettings {
  issuer: string;
  clientId: string;
  audience?: string;
  scopes: string[];
  callbackPort: number;
}

/** Default `openid offline_access`; `offline_access` is always added, since without it there is no refresh. */
export function normaliseScopes(scopes: string[] | undefined): string[] {
  const given = (scopes ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  const result = given.length > 0 ? [...new Set(given)] : [...DEFAULT_SCOPES];
  if (!result.includes('offline_access')) result.push('offline_access');
  return result;
}

/** `allowAnyPort` lets a one-off login use port 0 (any free port); a stored port is 1–65535. */
export function checkCallbackPort(port: number | undefined, allowAnyPort = false): number {
  if (port === undefined) return DEFAULT_CALLBACK_PORT;
  if (!Number.isInteger(port) || port < (allowAnyPort ? 0 : 1) || port > 65535) {
    throw new ThvError('bad_request', `callback port ${String(port)} is not a port number`, { hint: 'Use a number from 1 to 65535.' });
  }
  return port;
}

/** The configured settings, or undefined when issuer or client id is missing. */
export function oauthSettingsFrom(oauth: OAuthConfig | undefined): OAuthSettings | undefined {
  if (!oauth?.issuer || !oauth.client_id) return undefined;
  return {
    issuer: oauth.issuer,
    clientId: oauth.client_id,
    ...(oauth.audience ? { audience: oauth.audience } : {}),
    scopes: normaliseScopes(oauth.scopes),
    callbackPort: oauth.callback_port ?? DEFAULT_CALLBACK_PORT,
  };
}

/**
 * Checks OAuth settings before they are stored (`thv config set-registry --issuer --client-id`, the
 * API's PUT, `thv registry login --issuer …`): issuer and client id come together, and the issuer
 * must pass discovery with an exact issuer match. Returns the `registry_auth` block to store.
 */
export async function validateRegistryAuthSettings(
  input: RegistryAuthInput,
  options: { fetch?: typeof fetch | undefined } = {},
): Promise<NonNullable<Config['registry_auth']>> {
  const issuer = input.issuer?.trim();
  const clientId = input.clientId?.trim();
  if (!issuer || !clientId) {
    throw new ThvError('bad_request', 'the OAuth issuer and client id must be given together', {
      hint: 'Pass both --issuer and --client-id.',
    });
  }
  const callbackPort = checkCallbackPort(input.callbackPort);
  await discoverIssuer(issuer, options.fetch ? { fetch: options.fetch } : {});
  const oauth: OAuthConfig = { issuer, client_id: clientId, scopes: normaliseScopes(input.scopes) };
  if (input.audience?.trim()) oauth.audience = input.audience.trim();
  if (input.callbackPort !== undefined) oauth.callback_port = callbackPort;
  return { type: 'oauth', oauth };
}
