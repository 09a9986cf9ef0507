import { ThvError, notFound } from '../core/errors.js';
import type { Paths } from '../core/paths.js';
import type { ConfigStore } from '../config/store.js';
import type { Config } from '../config/schema.js';
import type { SecretScope, SecretsCapabilities, SecretsProvider, SecretsProviderType } from './provider.js';
import type { SetupSecretsResult } from './setup.js';

export interface SecretsServiceDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: ConfigStore;
  /** A person is at the terminal: the encrypted store's password may be asked for. */
  interactive: boolean;
  /** How this surface tells the user to see the names ("Run `thv secret list` …", "GET …/keys …"). */
  listHint: string;
}

/**
 * The secrets rules the CLI and the REST API share (docs/architecture.md): which provider is in use,
 * opening it once per provider type, the user's view without thv's internal keys, read-only
 * providers refused before anything is looked up, names checked, missing secrets reported the same.
 * Values never leave through here except by `get`.
 */
export class SecretsService {
  private opened: { type: SecretsProviderType; provider: Promise<SecretsProvider> } | undefined;

  constructor(private readonly deps: SecretsServiceDeps) {}

  /** TOOLHIVE_SECRETS_PROVIDER, else config, else `encrypted`. */
  async providerType(config?: Config): Promise<SecretsProviderType> {
    const { secretsProviderType } = await import('./index.js');
    return secretsProviderType(config ?? (await this.deps.config.load()), this.deps.env);
  }

  /**
   * The raw provider: one for the life of the process, so the encrypted store's key is derived once;
   * a new one when the provider type changes (`thv secret setup` while the API runs).
   */
  async provider(): Promise<SecretsProvider> {
    const config = await this.deps.config.load();
    const type = await this.providerType(config);
    if (this.opened?.type !== type) {
      const { openSecretsProvider } = await import('./index.js');
      const provider = openSecretsProvider({ paths: this.deps.paths, env: this.deps.env, config, interactive: this.deps.interactive });
      const entry = { type, provider };
      this.opened = entry;
      provider.catch(() => {
        if (this.opened === entry) this.opened = undefined;
      });
    }
    return this.opened.provider;
  }

  /** thv's own keys of one scope (refresh tokens, workload credentials), out of the user's sight. */
  async scoped(scope: SecretScope): Promise<SecretsProvider> {
    const { scopedSecrets } = await import('./index.js');
    return scopedSecrets(await this.provider(), scope);
  }

  /** The user's view: thv's internal keys are neither listed nor reachable. */
  async user(): Promise<SecretsProvider> {
    const { userSecrets } = await import('./index.js');
    return userSecrets(await this.provider());
  }

  async describe(): Promise<{ type: SecretsProviderType; capabilities: SecretsCapabilities }> {
    const { type, capabilities } = await this.user();
    return { type, capabilities };
  }

  /** `options`: the API's `POST /secrets` (a password in the body, or one made up and kept in the OS keyring). */
  async setup(providerType: SecretsProviderType, options: { password?: string; generateIfKeyring?: boolean } = {}): Promise<SetupSecretsResult> {
    const { setupSecrets } = await import('./index.js');
    const result = await setupSecrets({ paths: this.deps.paths, env: this.deps.env, providerType, interactive: this.deps.interactive, ...options });
    this.opened = undefined;
    return result;
  }

  list(): Promise<string[]> {
    return this.user().then((store) => store.list());
  }

  /** The value, or undefined. */
  get(name: string): Promise<string | undefined> {
    return this.user().then((store) => store.get(name));
  }

  /** The value; a missing secret is a not_found that says how to see the names. */
  async require(name: string): Promise<string> {
    const value = await this.get(name);
    if (value === undefined) throw this.missing(name);
    return value;
  }

  /**
   * Checks that `name` may be written and unlocks the store (the password prompt), so a command
   * fails before it reads the value from stdin.
   */
  async prepareWrite(name: string, action: 'set' | 'delete' = 'set'): Promise<SecretsProvider> {
    const { assertUserSecretName, readOnlyProviderError } = await import('./index.js');
    assertUserSecretName(name);
    const store = await this.user();
    const allowed = action === 'set' ? store.capabilities.canWrite : store.capabilities.canDelete;
    if (!allowed) throw readOnlyProviderError(store.type, action, name);
    await store.unlock?.();
    return store;
  }

  /** `mode`: `create` refuses an existing name, `update` a missing one, `upsert` neither. */
  async set(name: string, value: string, mode: 'upsert' | 'create' | 'update' = 'upsert', existsHint?: string): Promise<void> {
    const store = await this.prepareWrite(name, 'set');
    if (mode !== 'upsert') {
      const exists = (await store.get(name)) !== undefined;
      if (mode === 'create' && exists) throw new ThvError('already_exists', `secret ${name} already exists`, existsHint ? { hint: existsHint } : {});
      if (mode === 'update' && !exists) throw this.missing(name);
    }
    await store.set(name, value);
  }

  /** Deletes an existing secret; a missing one is a not_found. */
  async delete(name: string): Promise<void> {
    const store = await this.prepareWrite(name, 'delete');
    if ((await store.get(name)) === undefined) throw this.missing(name);
    await store.delete(name);
  }

  private missing(name: string): ThvError {
    return notFound(`secret ${name} not found`, this.deps.listHint);
  }
}
