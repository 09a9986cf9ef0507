import { z } from 'zod';

/**
 * Everything a remote workload needs to reconnect without a new login, kept as one JSON value in
 * the secrets store (workloads scope): the client (including a dynamically registered one and its
 * secret) and the tokens. Never written to the run config, the status file or the log.
 */
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
