import * as oauth from 'oauth4webapi';

/** A PKCE S256 pair (RFC 7636) and a 256-bit `state`; S256 is the only method thv uses. */
export interface AuthorizationSecrets {
  codeVerifier: string;
  codeChallenge: string;
  state: string;
}

export async function createAuthorizationSecrets(): Promise<AuthorizationSecrets> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return { codeVerifier, codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier), state: oauth.generateRandomState() };
}
