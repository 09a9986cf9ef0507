import { z } from 'zod';

/** config.yaml (docs/architecture.md#files-on-disk). Unknown keys are kept, so a file shared with ToolHive loses nothing. */
export const oauthConfigSchema = z
  .object({
    issuer: z.string().optional(),
    client_id: z.string().optional(),
    audience: z.string().optional(),
    scopes: z.array(z.string()).optional(),
    callback_port: z.number().int().min(1).max(65535).optional(),
    cached_refresh_token_ref: z.string().optional(),
    cached_token_expiry: z.string().optional(),
  })
  .loose();

export const registryAuthSchema = z
  .object({
    type: z.enum(['oauth', 'bearer', '']).optional(),
    oauth: oauthConfigSchema.optional(),
    bearer: z.object({ token_file: z.string().optional(), token_env: z.string().optional() }).loose().optional(),
  })
  .loose();

export const configSchema = z
  .object({
    registry_url: z.string().optional(),
    registry_api_url: z.string().optional(),
    local_registry_path: z.string().optional(),
    allow_private_registry_ip: z.boolean().optional(),
    registry_auth: registryAuthSchema.optional(),
    secrets: z
      .object({
        provider_type: z.enum(['encrypted', 'environment', '']).optional(),
        setup_completed: z.boolean().optional(),
      })
      .loose()
      .optional(),
    clients: z.object({ registered_clients: z.array(z.string()).optional() }).loose().optional(),
  })
  .loose();

export type Config = z.infer<typeof configSchema>;
export type OAuthConfig = z.infer<typeof oauthConfigSchema>;
export type RegistryAuthConfig = z.infer<typeof registryAuthSchema>;
