import { resolve as resolvePath } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { RegistryHTTPError, ThvError } from '../core/errors.js';
import type { Paths } from '../core/paths.js';
import { ConfigStore } from '../config/store.js';
import type { Config } from '../config/schema.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { registryIdentity } from '../auth/registry-identity.js';
import { CachingProvider, type CachingOptions } from './cache.js';
import { assertPublicRegistryUrl, detectRegistryKind } from './detect.js';
import { findServer, searchServers } from './resolve.js';
import { ApiProvider } from './providers/api.js';
import { EmbeddedProvider } from './providers/embedded.js';
import { FileProvider } from './providers/file.js';
import type { RegistryProvider } from './providers/provider.js';
import { UrlProvider } from './providers/url.js';
import { ReauthorizingProvider } from './providers/reauthorizing.js';
import { allServers, type CatalogServer, type RegistryListing, type StaleMarker } from './types.js';
import { summarize, type ServerSummary } from './summary.js';

export interface RegistryServiceDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** May a browser flow be started to get a token? False for the API and for non-TTY processes. */
  interactive: boolean;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Progress of a paginated fetch (servers so far), for a TTY progress line. */
  onProgress?: (fetched: number) => void;
  /** Where the OAuth flow prints the authorization URL (stderr in the CLI). */
  err?: (text: string) => void;
  opener?: (url: string) => Promise<void>;
  /** The process's secrets provider (the composition root's); opened here from config when absent. */
  secrets?: () => Promise<SecretsProvider>;
  /** The CLI's catalog table, kept in the disk cache for the start-up fast path (docs/architecture.md#start-up). */
  renderTable?: CachingOptions['renderTable'];
}

export type AuthStatus = 'none' | 'configured' | 'authenticated';

export interface RegistryInfo {
  name: 'default';
  type: 'embedded' | 'file' | 'url' | 'api';
  source: string;
  auth_status: AuthStatus;
  auth_type: 'oauth' | 'bearer' | '';
  auth_config?: { issuer?: string; client_id?: string; audience?: string; scopes?: string[] };
  last_updated?: string;
}

export interface SetRegistryInput {
  /** A path or URL whose kind is detected (the CLI's `set-registry <url-or-path>`). */
  location?: string;
  url?: string;
  apiUrl?: string;
  localPath?: string;
  allowPrivateIp?: boolean;
  auth?: { issuer: string; clientId: string; audience?: string; scopes?: string[]; callbackPort?: number };
}

interface ActiveSource {
  key: string;
  provider: RegistryProvider;
  cache?: CachingProvider;
}

/**
 * The one registry service behind `thv registry …`, `thv search`, `thv run <name>` and the REST
 * API. It picks the provider from config by the priority of docs/registry.md#where-the-catalog-comes-from and keeps it (with its in-memory
 * cache) for as long as the configuration stays the same.
 */
export class RegistryService {
  readonly configStore: ConfigStore;
  private readonly clock: Clock;
  private active: ActiveSource | undefined;
  private sharedSecrets: { type: string; provider: Promise<SecretsProvider> } | undefined;

  constructor(private readonly deps: RegistryServiceDeps) {
    this.configStore = new ConfigStore(deps.paths.configFile);
    this.clock = deps.clock ?? systemClock;
  }

  async list(opts: { refresh?: boolean } = {}): Promise<RegistryListing> {
    const { provider, cache } = await this.source();
    if (cache) {
      const result = await cache.list(opts);
      return { catalog: result.catalog, source: provider.source, ...(result.stale ? { stale: result.stale } : {}) };
    }
    return { catalog: await provider.fetchCatalog(), source: provider.source };
  }

  /** What the catalog table needs; from a warm disk cache this skips parsing the full catalog. */
  async listSummaries(opts: { refresh?: boolean } = {}): Promise<{ summaries: ServerSummary[]; source: string; stale?: StaleMarker }> {
    const { provider, cache } = await this.source();
    if (cache) {
      const result = await cache.summaries(opts);
      return { summaries: result.summaries, source: provider.source, ...(result.stale ? { stale: result.stale } : {}) };
    }
    return { summaries: allServers(await provider.fetchCatalog()).map(summarize), source: provider.source };
  }

  async getServer(name: string, opts: { refresh?: boolean } = {}): Promise<{ server: CatalogServer; source: string; stale?: StaleMarker }> {
    const listing = await this.list(opts);
    return { server: findServer(listing.catalog, name), source: listing.source, ...(listing.stale ? { stale: listing.stale } : {}) };
  }

  async search(query: string, opts: { refresh?: boolean } = {}): Promise<{ servers: CatalogServer[]; source: string; stale?: StaleMarker }> {
    const listing = await this.list(opts);
    return { servers: searchServers(listing.catalog, query), source: listing.source, ...(listing.stale ? { stale: listing.stale } : {}) };
  }

  async info(): Promise<RegistryInfo> {
    const config = await this.configStore.load();
    const { provider } = await this.source(config);
    const auth = config.registry_auth;
    const authType = auth?.type ?? '';
    const info: RegistryInfo = {
      name: 'default',
      type: provider.kind,
      source: provider.source,
      auth_status: authType ? await this.authStatus(config) : 'none',
      auth_type: authType,
    };
    if (authType === 'oauth' && auth?.oauth) {
      const { issuer, client_id, audience, scopes } = auth.oauth;
      info.auth_config = { issuer, client_id, audience, scopes };
    }
    return info;
  }

  async setRegistry(input: SetRegistryInput): Promise<void> {
    const target = await this.resolveTarget(input);
    let authSettings: Config['registry_auth'] | undefined;
    if (input.auth) {
      const { validateRegistryAuthSettings } = await import('../auth/registry-settings.js');
      authSettings = await validateRegistryAuthSettings(input.auth, { fetch: this.deps.fetch });
    }
    await this.configStore.update((config) => {
      const before = registryIdentity(config);
      delete config.registry_url;
      delete config.registry_api_url;
      delete config.local_registry_path;
      if (target.kind === 'api') config.registry_api_url = target.value;
      else if (target.kind === 'url') config.registry_url = target.value;
      else config.local_registry_path = target.value;
      if (input.allowPrivateIp) config.allow_private_registry_ip = true;
      else delete config.allow_private_registry_ip;
      if (authSettings) config.registry_auth = authSettings;
      else if (target.kind === 'file' || before !== registryIdentity(config)) {
        // Credentials belong to the registry they were set up for: sending the old IdP's login or
        // bearer token to a different registry would leak them. Set them again with the new one.
        delete config.registry_auth;
      }
    });
    this.active = undefined;
  }

  async unsetRegistry(): Promise<void> {
    await this.configStore.update((config) => {
      delete config.registry_url;
      delete config.registry_api_url;
      delete config.local_registry_path;
      delete config.allow_private_registry_ip;
      delete config.registry_auth;
    });
    this.active = undefined;
  }

  /** Drops the in-memory copy and the disk cache of the current registry (used by logout). */
  async clearCache(): Promise<void> {
    const { cache } = await this.source();
    await cache?.clear();
  }

  private async authStatus(config: Config): Promise<AuthStatus> {
    const { registryAuthStatus } = await import('../auth/registry-auth.js');
    return registryAuthStatus(await this.authDeps(config));
  }

  /**
   * One secrets provider for the life of this service, so a long-lived API server derives the
   * store's key once instead of on every auth-status poll.
   */
  private secretsFor(config: Config): Promise<SecretsProvider> {
    if (this.deps.secrets) return this.deps.secrets();
    const type = config.secrets?.provider_type ?? '';
    if (this.sharedSecrets?.type !== type) {
      const provider = import('../secrets/index.js').then(({ openSecretsProvider }) =>
        openSecretsProvider({ paths: this.deps.paths, env: this.deps.env, config, interactive: this.deps.interactive }),
      );
      this.sharedSecrets = { type, provider };
      provider.catch(() => (this.sharedSecrets = undefined));
    }
    return this.sharedSecrets!.provider;
  }

  private async authDeps(config: Config) {
    return {
      secrets: await this.secretsFor(config),
      config,
      configStore: this.configStore,
      paths: this.deps.paths,
      env: this.deps.env,
      interactive: this.deps.interactive,
      clock: this.clock,
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      ...(this.deps.err ? { err: this.deps.err } : {}),
      ...(this.deps.opener ? { opener: this.deps.opener } : {}),
    };
  }

  private async resolveTarget(input: SetRegistryInput): Promise<{ kind: 'api' | 'url' | 'file'; value: string }> {
    const given = [input.location, input.url, input.apiUrl, input.localPath].filter((v) => v !== undefined && v !== '');
    if (given.length !== 1) throw new ThvError('bad_request', 'give exactly one registry location (a URL or a file path)');
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(given[0]!)?.[1]?.toLowerCase();
    if (scheme && scheme !== 'http' && scheme !== 'https') {
      throw new ThvError('bad_request', `\`${given[0]}\` is neither an http(s) URL nor a file path`, {
        hint: 'Use an https:// registry URL, a .json document URL, or the path of a registry file.',
      });
    }
    if (input.localPath !== undefined || (input.location !== undefined && !/^https?:\/\//i.test(input.location))) {
      const path = resolvePath(input.localPath ?? input.location!);
      await new FileProvider(path).fetchCatalog().catch((err: unknown) => {
        if (err instanceof ThvError && err.code === 'not_found') {
          throw new ThvError('not_found', err.message, { hint: 'Give the path of a registry JSON file, or a registry URL.' });
        }
        throw err;
      });
      return { kind: 'file', value: path };
    }
    const url = (input.url ?? input.apiUrl ?? input.location)!;
    try {
      new URL(url);
    } catch {
      throw new ThvError('bad_request', `\`${url}\` is not a valid URL`);
    }
    await assertPublicRegistryUrl(url, Boolean(input.allowPrivateIp));
    if (input.apiUrl) return { kind: 'api', value: url.replace(/\/+$/, '') };
    const kind = input.url ? 'url' : await detectRegistryKind(url, this.deps.fetch);
    if (kind === 'api') return { kind, value: url.replace(/\/+$/, '') };
    await this.checkDocumentUrl(url);
    return { kind: 'url', value: url };
  }

  /**
   * A registry document is read once before it is stored, as a file is: a 404 or a legacy document
   * is refused now, not at the next `list`. A 401/403 is accepted: its login comes after.
   */
  private async checkDocumentUrl(url: string): Promise<void> {
    try {
      await new UrlProvider(url, this.deps.fetch ? { fetch: this.deps.fetch } : {}).fetchCatalog();
    } catch (err) {
      if (err instanceof RegistryHTTPError && err.isUnauthorized) return;
      throw err;
    }
  }

  private async source(loaded?: Config): Promise<ActiveSource> {
    const config = loaded ?? (await this.configStore.load());
    const key = JSON.stringify([config.registry_api_url, config.registry_url, config.local_registry_path, config.registry_auth?.type]);
    if (this.active?.key === key) return this.active;
    this.active = { key, ...(await this.buildSource(config)) };
    return this.active;
  }

  private async buildSource(config: Config): Promise<Omit<ActiveSource, 'key'>> {
    const remote = config.registry_api_url || config.registry_url;
    if (!remote) {
      if (config.local_registry_path) return { provider: new FileProvider(config.local_registry_path) };
      return { provider: new EmbeddedProvider() };
    }
    const { headers, invalidate } = await this.authHeaders(config);
    const direct: RegistryProvider = config.registry_api_url
      ? new ApiProvider({
          baseUrl: config.registry_api_url,
          headers,
          ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
          ...(this.deps.onProgress ? { onProgress: this.deps.onProgress } : {}),
        })
      : new UrlProvider(config.registry_url!, { headers, ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}) });
    const provider = invalidate ? new ReauthorizingProvider(direct, invalidate) : direct;
    const cache = new CachingProvider(provider, {
      file: this.deps.paths.registryCacheFile(registryIdentity(config)!),
      cacheDir: this.deps.paths.cacheDir,
      clock: this.clock,
      ...(this.deps.renderTable ? { renderTable: this.deps.renderTable } : {}),
    });
    return { provider, cache };
  }

  /** The Authorization header source; the OAuth stack is loaded only when auth is configured. */
  private async authHeaders(
    config: Config,
  ): Promise<{ headers: () => Promise<Record<string, string>>; invalidate?: () => Promise<void> }> {
    const none = { headers: async () => ({}) };
    if (!config.registry_auth?.type) return none;
    const { createRegistryAuthorizer } = await import('../auth/registry-auth.js');
    const authorizer = createRegistryAuthorizer(await this.authDeps(config));
    if (!authorizer) return none;
    return {
      headers: async () => ({ Authorization: await authorizer.authorizationHeader() }),
      invalidate: () => authorizer.invalidate(),
    };
  }
}
