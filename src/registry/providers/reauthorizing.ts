import { RegistryHTTPError } from '../../core/errors.js';
import type { RegistryProvider } from './provider.js';

/**
 * A registry that answers 401 may only have revoked the access token we cached: forget it and try
 * once more with a fresh one (a refresh grant) before calling it an authentication failure.
 */
export class ReauthorizingProvider implements RegistryProvider {
  constructor(
    private readonly inner: RegistryProvider,
    private readonly invalidate: () => Promise<void>,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  get source() {
    return this.inner.source;
  }

  async fetchCatalog() {
    try {
      return await this.inner.fetchCatalog();
    } catch (err) {
      if (!(err instanceof RegistryHTTPError) || err.status !== 401) throw err;
      await this.invalidate();
      return this.inner.fetchCatalog();
    }
  }
}
