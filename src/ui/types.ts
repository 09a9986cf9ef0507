/** The API's shapes, as far as the dashboard reads them (docs/api.md). */
export interface EnvVar {
  name: string;
  description?: string;
  required?: boolean;
  secret?: boolean;
  default?: string;
}

export interface CatalogServer {
  name: string;
  title?: string;
  description: string;
  tier?: string;
  status?: string;
  transport?: string;
  tools?: string[];
  tags?: string[];
  env_vars?: EnvVar[];
  permissions?: Record<string, unknown>;
  image?: string;
  url?: string;
  packages?: Array<{ registry_type: string; identifier: string; version?: string }>;
  repository_url?: string;
}

export interface Workload {
  name: string;
  package?: string;
  url: string;
  port?: number;
  status: string;
  status_context: string;
  group: string;
  remote?: boolean;
  transport_type?: string;
  runtime?: string;
  isolation?: string;
  created_at?: string;
}

export interface ClientStatus {
  client_type: string;
  installed: boolean;
  registered: boolean;
}

export interface LoginState {
  status: 'none' | 'pending' | 'authenticated' | 'failed' | 'unauthenticated';
  authorization_url?: string;
  reason?: string;
  auth_status?: string;
  auth_type?: string;
}
