import type { ServerJson } from '../src/registry/types.js';

export declare const CATALOG_SOURCE: string;
export declare const CATALOG_OUTPUT: string;
export declare class CatalogError extends Error {}
export interface RegistryDocument {
  $schema: string;
  version: string;
  meta: { last_updated: string };
  data: { servers: ServerJson[] };
}
export declare function buildRegistryDocument(text: string, file?: string): RegistryDocument;
export declare function writeEmbeddedCatalog(root: string): Promise<number>;
