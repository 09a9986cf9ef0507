import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, forbidden } from './errors.js';
import { isAllowedOrigin, type BoundAddress } from './host-check.js';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * CSRF defence (SPEC §7): any web page can make a browser send a "simple" request (a form POST, or
 * fetch without preflight) to 127.0.0.1, where the Host check alone lets it through. Browsers mark
 * such requests with a foreign `Origin`, with `Sec-Fetch-Site: cross-site`, and can only send a body
 * as text/plain, form-urlencoded or multipart; curl and the desktop app send none of these.
 * Throws the refusal; returns when the request may proceed.
 */
export function refuseCrossSiteRequest(method: string, headers: IncomingHttpHeaders, bound: BoundAddress): void {
  const origin = headers.origin;
  if (origin !== undefined && !isAllowedOrigin(origin, bound)) {
    throw forbidden(`requests from the origin ${JSON.stringify(origin)} are not allowed; only this server's own loopback origin is`);
  }
  if (SAFE_METHODS.has(method.toUpperCase())) return;
  if (headers['sec-fetch-site'] === 'cross-site') {
    throw forbidden('cross-site requests are not allowed');
  }
  if (hasBody(headers) && mediaType(headers['content-type']) !== 'application/json') {
    throw new ApiError(415, 'unsupported_media_type', 'a request body must be JSON, sent with Content-Type: application/json');
  }
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}
