import type { Catalog } from '../types.js';

/** A source of a catalog. Caching and stale fallbacks are added around it by cache.ts. */
export interface RegistryProvider {
  readonly kind: 'embedded' | 'file' | 'url' | 'api';
  /** Shown to the user: "embedded catalog", a file path or a URL. */
  readonly source: string;
  fetchCatalog(): Promise<Catalog>;
}

/** Registry documents (files and URLs) may not exceed this; a 10,000-server document is ~20 MB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
