import type { FastifyInstance } from 'fastify';
import { ThvError, notFound } from '../../core/errors.js';
import type { SecretsProvider } from '../../secrets/provider.js';
import type { ApiDeps } from '../deps.js';
import { errorResponses } from '../schemas.js';

export const SECRETS_PREFIX = '/api/v1beta/secrets/default';
const KEYS_PATH = `${SECRETS_PREFIX}/keys`;

const keySchema = { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] } as const;
const keyParams = {
  type: 'object',
  properties: { key: { type: 'string', description: 'the secret name (URL-encoded); names starting with `__thv_` are refused' } },
  required: ['key'],
} as const;
const valueProperty = { type: 'string', minLength: 1, description: 'the secret value; it is stored, never returned' } as const;

/**
 * `/api/v1beta/secrets/default`: the CLI's `thv secret` commands over HTTP, through the same
 * provider and the same user view (`userSecrets`), so thv's internal `__thv_` keys are neither
 * listed nor reachable. No route answers a value. The server is never interactive: the password
 * comes from the keyring or TOOLHIVE_SECRETS_PASSWORD.
 */
export function registerSecretRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const secrets = sharedUserSecrets(deps);
  const tags = ['secrets'];

  app.get(
    SECRETS_PREFIX,
    {
      schema: {
        tags,
        summary: 'The secrets provider in use and what it can do',
        response: {
          200: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              provider_type: { type: 'string', enum: ['encrypted', 'environment'] },
              capabilities: {
                type: 'object',
                properties: { can_read: { type: 'boolean' }, can_write: { type: 'boolean' }, can_delete: { type: 'boolean' }, can_list: { type: 'boolean' } },
                required: ['can_read', 'can_write', 'can_delete', 'can_list'],
              },
            },
            required: ['name', 'provider_type', 'capabilities'],
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const { type, capabilities } = await secrets();
      return {
        name: 'default',
        provider_type: type,
        capabilities: {
          can_read: capabilities.canRead,
          can_write: capabilities.canWrite,
          can_delete: capabilities.canDelete,
          can_list: capabilities.canList,
        },
      };
    },
  );

  app.get(
    KEYS_PATH,
    {
      schema: {
        tags,
        summary: 'The names of your secrets (never their values)',
        response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keySchema } }, required: ['keys'] }, ...errorResponses },
      },
    },
    async () => ({ keys: (await (await secrets()).list()).map((key) => ({ key })) }),
  );

  app.post<{ Body: { key: string; value: string } }>(
    KEYS_PATH,
    {
      schema: {
        tags,
        summary: 'Create a secret; 409 when it exists',
        body: { type: 'object', additionalProperties: false, properties: { key: { type: 'string', minLength: 1 }, value: valueProperty }, required: ['key', 'value'] },
        response: { 201: keySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { key, value } = request.body;
      const store = await writable(secrets, 'set', key);
      if ((await store.get(key)) !== undefined) {
        throw new ThvError('already_exists', `secret ${key} already exists`, { hint: `PUT ${KEYS_PATH}/${encodeURIComponent(key)} to change its value.` });
      }
      await store.set(key, value);
      return reply.status(201).send({ key });
    },
  );

  app.put<{ Params: { key: string }; Body: { value: string } }>(
    `${KEYS_PATH}/:key`,
    {
      schema: {
        tags,
        summary: 'Change the value of an existing secret',
        params: keyParams,
        body: { type: 'object', additionalProperties: false, properties: { value: valueProperty }, required: ['value'] },
        response: { 200: keySchema, ...errorResponses },
      },
    },
    async (request) => {
      const { key } = request.params;
      const store = await writable(secrets, 'set', key);
      await requireExisting(store, key);
      await store.set(key, request.body.value);
      return { key };
    },
  );

  app.delete<{ Params: { key: string } }>(
    `${KEYS_PATH}/:key`,
    {
      schema: { tags, summary: 'Delete a secret', params: keyParams, response: { 204: { type: 'null', description: 'deleted' }, ...errorResponses } },
    },
    async (request, reply) => {
      const { key } = request.params;
      const store = await writable(secrets, 'delete', key);
      await requireExisting(store, key);
      await store.delete(key);
      return reply.status(204).send();
    },
  );
}

/**
 * One provider for the life of the server, so the encrypted store's key is derived once; a new
 * one when the provider type in config.yaml changes (`thv secret setup` in a terminal).
 */
function sharedUserSecrets(deps: ApiDeps): () => Promise<SecretsProvider> {
  let shared: { type: string; provider: Promise<SecretsProvider> } | undefined;
  return async () => {
    const [{ ConfigStore }, { openSecretsProvider, secretsProviderType, userSecrets }] = await Promise.all([
      import('../../config/store.js'),
      import('../../secrets/index.js'),
    ]);
    const config = await new ConfigStore(deps.paths.configFile).load();
    const type = secretsProviderType(config, deps.env);
    if (shared?.type !== type) {
      const provider = openSecretsProvider({ paths: deps.paths, env: deps.env, config, interactive: false }).then(userSecrets);
      const entry = { type, provider };
      shared = entry;
      provider.catch(() => {
        if (shared === entry) shared = undefined;
      });
    }
    return shared.provider;
  };
}

/** The read-only environment provider refuses before anything is looked up. */
async function writable(secrets: () => Promise<SecretsProvider>, action: 'set' | 'delete', key: string): Promise<SecretsProvider> {
  const store = await secrets();
  const allowed = action === 'set' ? store.capabilities.canWrite : store.capabilities.canDelete;
  if (!allowed) throw (await import('../../secrets/index.js')).readOnlyProviderError(store.type, action, key);
  return store;
}

async function requireExisting(store: SecretsProvider, key: string): Promise<void> {
  if ((await store.get(key)) === undefined) throw notFound(`secret ${key} not found`, `GET ${KEYS_PATH} to see the names.`);
}
