import { ThvError } from '../../core/errors.js';
import { DEFAULT_CALLBACK_PORT } from '../browser-flow.js';

/**
 * Where thv's Client ID Metadata Document is published (docs/remote-auth.md#client-id-metadata-document).
 * thv has no web origin of its own, so whoever deploys it publishes the document (see
 * `clientMetadataDocument`) at an HTTPS URL they control and names that URL here; the URL is thv's
 * client_id at every authorization server that advertises `client_id_metadata_document_supported`.
 */
export const CLIENT_METADATA_URL_ENV = 'TOOLHIVE_CLIENT_METADATA_URL';

/**
 * The CIMD draft: the client_id is an https URL with a path, without fragment, credentials or dot
 * segments; the authorization server fetches it, so anything else would be refused there anyway.
 */
export function checkClientMetadataUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ThvError('config_invalid', `${CLIENT_METADATA_URL_ENV} is not a URL`, { hint: 'Set it to the https:// URL of thv\'s published client metadata document.' });
  }
  const hint = 'The client metadata URL must be https://, with a path (e.g. https://example.com/thv/client-metadata.json), and no fragment or credentials.';
  if (url.protocol !== 'https:' || url.pathname === '/' || url.hash || url.username || url.password || /\/\.\.?(\/|$)/.test(value.replace(/%2e/gi, '.'))) {
    throw new ThvError('config_invalid', `${CLIENT_METADATA_URL_ENV} is not a usable client metadata document URL`, { hint });
  }
  return value;
}

/**
 * The document to publish at `url`. thv is a public native client: no secret, authorization code
 * with PKCE, and loopback redirect URIs whose port the authorization server ignores (RFC 8252 §7.3);
 * the default callback port is listed too, for servers that compare redirect URIs exactly.
 */
export function clientMetadataDocument(url: string): Record<string, unknown> {
  return {
    client_id: url,
    client_name: 'ToolHive (thv)',
    application_type: 'native',
    redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback', `http://localhost:${DEFAULT_CALLBACK_PORT}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}
