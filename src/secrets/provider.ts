/**
 * Where secrets live (docs/secrets.md). Every provider passes the same contract suite
 * (test/secrets/provider-contract.ts).
 */
export interface SecretsCapabilities {
  canRead: boolean;
  canWrite: boolean;
  canDelete: boolean;
  canList: boolean;
}

export type SecretsProviderType = 'encrypted' | 'environment';

export interface SecretsProvider {
  readonly type: SecretsProviderType;
  readonly capabilities: SecretsCapabilities;
  /** The value, or undefined when no such secret exists. */
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** Removes the secret; removing one that does not exist is not an error. */
  delete(name: string): Promise<void>;
  list(): Promise<string[]>;
  /**
   * Makes sure the store can be used now (for the encrypted store: obtains the password and checks
   * it against the file), so a command fails before it consumes input. Providers that need
   * nothing leave it out.
   */
  unlock?(): Promise<void>;
}

/** Internal scopes: keys are stored as `__thv_<scope>_<name>` and hidden from the user's view. */
export type SecretScope = 'registry' | 'workloads' | 'auth';
