import { parseRegistryDocument } from '../document.js';
import { readRegistryFile } from '../read-file.js';
import type { RegistryProvider } from './provider.js';

export class FileProvider implements RegistryProvider {
  readonly kind = 'file';

  constructor(readonly source: string) {}

  async fetchCatalog() {
    return parseRegistryDocument(await readRegistryFile(this.source), this.source);
  }
}
