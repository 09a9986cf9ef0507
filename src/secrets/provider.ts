/**
 * Where secrets live (SPEC §6). Every provider passes the same contract suite
 * (test/secrets/provider-contract.ts).
 */
export interface SecretsCapabilities {
  canRead: boolean;
  canWrite: boolean;
  canDelete: boolean;
  canList: boolean;
}

export interface SecretsProvider {
  readonly type: 'encrypted' | 'environment';
  readonly capabilities: SecretsCapabilities;
  /** The value, or undefined when no such secret exists. */
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** Removes the secret; removing one that does not exist is not an error. */
  delete(name: string): Promise<void>;
  list(): Promise<string[]>;
}

/** Internal scopes: keys are stored as `__thv_<scope>_<name>` and hidden from the user's view. */
export type SecretScope = 'registry' | 'workloads' | 'auth';
