import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { badRequest } from '../../core/errors.js';
import { PROVIDER_TYPES, type SecretsProviderType } from '../../secrets/index.js';
import { errorResponses } from '../schemas.js';

export const SECRETS_ROOT = '/api/v1beta/secrets';
export const SECRETS_PREFIX = `${SECRETS_ROOT}/default`;
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
 * SecretsService and the same user view, so thv's internal `__thv_` keys are neither
 * listed nor reachable. No route answers a value. The server is never interactive: the password
 * comes from the keyring or TOOLHIVE_SECRETS_PASSWORD.
 */
export function registerSecretRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const secrets = () => deps.app.secrets();
  const tags = ['secrets'];

  app.post<{ Body: { provider_type?: string; password?: string } | undefined }>(
    SECRETS_ROOT,
    {
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags,
        summary: 'Set up the secrets provider (ToolHive Studio does this at first start)',
        description:
          'As `thv secret setup`, without a prompt. For `encrypted` the password is `password`, else TOOLHIVE_SECRETS_PASSWORD, ' +
          'else the one in the OS keyring; with none of them a new store gets a random password kept in the OS keyring. ' +
          'An existing store must open with the password; it is never replaced.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            provider_type: { type: 'string', description: '`encrypted` (the default) or `environment`' },
            password: { type: 'string', description: 'the encrypted store\'s password; never stored by the server, never logged' },
          },
        },
        response: {
          201: { type: 'object', properties: { provider_type: { type: 'string', enum: [...PROVIDER_TYPES] }, message: { type: 'string' } }, required: ['provider_type', 'message'] },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const requested = body.provider_type || 'encrypted';
      if (!(PROVIDER_TYPES as readonly string[]).includes(requested)) {
        throw badRequest(`thv has no "${requested.slice(0, 40)}" secrets provider`, `Use one of: ${PROVIDER_TYPES.join(', ')}.`);
      }
      const providerType = requested as SecretsProviderType;
      const result = await (await secrets()).setup(providerType, { ...(body.password ? { password: body.password } : {}), generateIfKeyring: true });
      let message = `secrets provider set to ${providerType}`;
      if (providerType === 'encrypted') {
        message += result.created ? '; a new, empty encrypted store was created' : '; the existing encrypted store opens with this password';
        message += result.passwordInKeyring
          ? '; the password is kept in the OS keyring'
          : '; the OS keyring is not available: the server opens the store only with TOOLHIVE_SECRETS_PASSWORD set to the same password';
      }
      return reply.status(201).send({ provider_type: providerType, message });
    },
  );

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
      const { type, capabilities } = await (await secrets()).describe();
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
      await (await secrets()).set(key, value, 'create', `PUT ${KEYS_PATH}/${encodeURIComponent(key)} to change its value.`);
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
      await (await secrets()).set(key, request.body.value, 'update');
      return { key };
    },
  );

  app.delete<{ Params: { key: string } }>(
    `${KEYS_PATH}/:key`,
    {
      schema: { tags, summary: 'Delete a secret', params: keyParams, response: { 204: { type: 'null', description: 'deleted' }, ...errorResponses } },
    },
    async (request, reply) => {
      await (await secrets()).delete(request.params.key);
      return reply.status(204).send();
    },
  );
}
