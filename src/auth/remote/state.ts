import { z } from 'zod';

/**
 * Everything a remote workload needs to reconnect without a new login, kept as one JSON value in
 * the secrets store (workloads scope): the client (including a dynamically registered one and its
 * secret) and the tokens. Never written to the run config, the status file or the log.
 */
/**
 * A client thv obtained for one authorization server: registered (RFC 7591, `dcr`) or its own
 * metadata document URL (`cimd`). Kept per issuer, so a server that moves to another authorization
 * server gets a client registered there, and coming back reuses the first one (docs/remote-auth.md).
 */
const storedClientSchema = z.object({
  kind: z.enum(['dcr', 'cimd']),
  client_id: z.string(),
  client_secret: z.string().optional(),
  token_endpoint_auth_method: z.string().optional(),
  /** ms since the epoch; absent when the secret never expires. */
  client_secret_expires_at: z.number().optional(),
  /** ms since the epoch: when the client (or its current secret) was obtained. */
  obtained_at: z.number().optional(),
  registration_client_uri: z.string().optional(),
  registration_access_token: z.string().optional(),
  /** What it was registered with; a login that needs another redirect URI or more scopes registers again. */
  redirect_uri: z.string().optional(),
  scope: z.string().optional(),
});
export type StoredClient = z.infer<typeof storedClientSchema>;

const remoteAuthStateSchema = z.object({
  version: z.literal(1),
  server_url: z.string(),
  issuer: z.string(),
  token_endpoint: z.string(),
  resource: z.string().optional(),
  client_id: z.string(),
  client_secret: z.string().optional(),
  token_endpoint_auth_method: z.string().optional(),
  /** True when thv registered the client (RFC 7591): a rejected one may be stale. */
  dynamic_client: z.boolean().default(false),
  scopes: z.array(z.string()).default([]),
  access_token: z.string().optional(),
  refresh_token: z.string().optional(),
  /** ms since the epoch. */
  expires_at: z.number().optional(),
  /** Clients thv obtained (DCR or CIMD), by issuer. */
  clients: z.record(z.string(), storedClientSchema).default({}),
});
export type RemoteAuthState = z.infer<typeof remoteAuthStateSchema>;

/** The secrets-store key (workloads scope) of a workload's OAuth state. */
export function remoteAuthStateKey(workload: string): string {
  return `WORKLOAD_${workload}_OAUTH`;
}

/** Parses a stored value; anything unreadable counts as no state (a new login replaces it). */
export function parseRemoteAuthState(raw: string | undefined): RemoteAuthState | undefined {
  if (!raw) return undefined;
  try {
    const parsed = remoteAuthStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function serializeRemoteAuthState(state: RemoteAuthState): string {
  return JSON.stringify(state);
}
