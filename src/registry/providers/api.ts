import { RegistryApiClient, type RegistryApiClientOptions } from '../api-client.js';
import { catalogFromServerJsons } from '../document.js';
import type { RegistryProvider } from './provider.js';

/** An MCP Registry API v0.1 server; every page is fetched and converted into one catalog. */
export class ApiProvider implements RegistryProvider {
  readonly kind = 'api';
  readonly client: RegistryApiClient;

  constructor(options: RegistryApiClientOptions) {
    this.client = new RegistryApiClient(options);
  }

  get source() {
    return this.client.baseUrl;
  }

  async fetchCatalog() {
    const entries = await this.client.listServers();
    return catalogFromServerJsons(entries, { last_updated: new Date().toISOString() });
  }
}
