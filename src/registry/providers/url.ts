import { RegistryHTTPError } from '../../core/errors.js';
import { readBodyLimited } from '../../core/http.js';
import { MAX_ERROR_BODY_BYTES } from '../api-client.js';
import { parseRegistryDocument } from '../document.js';
import { MAX_DOCUMENT_BYTES, type RegistryProvider } from './provider.js';

/** A registry JSON document served over HTTP(S). */
export class UrlProvider implements RegistryProvider {
  readonly kind = 'url';

  constructor(
    readonly source: string,
    private readonly options: { fetch?: typeof fetch; headers?: () => Promise<Record<string, string>>; timeoutMs?: number } = {},
  ) {}

  async fetchCatalog() {
    const res = await (this.options.fetch ?? fetch)(this.source, {
      headers: { Accept: 'application/json', ...(await this.options.headers?.()) },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    if (!res.ok) {
      const body = await readBodyLimited(res, MAX_ERROR_BODY_BYTES, { truncate: true }).catch(() => '');
      throw new RegistryHTTPError(res.status, this.source, body);
    }
    return parseRegistryDocument(await readBodyLimited(res, MAX_DOCUMENT_BYTES), this.source);
  }
}
