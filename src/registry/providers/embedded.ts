import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { parseRegistryDocument } from '../document.js';
import type { RegistryProvider } from './provider.js';

/**
 * The catalog shipped inside the package, so `thv registry list` works offline on a fresh install:
 * catalog/servers.yaml as the build writes it (docs/registry.md).
 */
export class EmbeddedProvider implements RegistryProvider {
  readonly kind = 'embedded';
  readonly source = 'embedded catalog';

  async fetchCatalog() {
    const text = await readFile(join(packageRoot(), 'dist', 'embedded-registry.json'), 'utf8');
    return parseRegistryDocument(text, this.source);
  }
}
