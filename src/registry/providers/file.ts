import { readFile, stat } from 'node:fs/promises';
import { ThvError } from '../../core/errors.js';
import { parseRegistryDocument } from '../document.js';
import { MAX_DOCUMENT_BYTES, type RegistryProvider } from './provider.js';

export class FileProvider implements RegistryProvider {
  readonly kind = 'file';

  constructor(readonly source: string) {}

  async fetchCatalog() {
    let size: number;
    try {
      size = (await stat(this.source)).size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ThvError('not_found', `registry file ${this.source} cannot be read (${code ?? 'error'})`, {
        hint: 'Check `local_registry_path` with `thv config get-registry`.',
      });
    }
    if (size > MAX_DOCUMENT_BYTES) {
      throw new ThvError('registry_invalid_response', `registry file ${this.source} is larger than the ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB limit`);
    }
    return parseRegistryDocument(await readFile(this.source, 'utf8'), this.source);
  }
}
