import type { FastifyInstance } from 'fastify';
import { log } from '../../core/log.js';
import type { ApiDeps } from '../deps.js';
import { LoginSession } from '../login-session.js';
import { logoutRegistry, startRegistryLogin } from '../registry-login.js';
import { errorResponses, registryInfoSchema } from '../schemas.js';
import { REGISTRY_PREFIX } from './registry.js';

const AUTH_PREFIX = `${REGISTRY_PREFIX}/auth`;

const loginStateSchema = {
  type: 'object',
  description:
    '`none`: the registry needs no login; `unauthenticated`: it does and no login ran; `pending`: waiting for the ' +
    'browser (open `authorization_url`); `authenticated`; `failed`: the last login failed (`reason`).',
  properties: {
    status: { type: 'string', enum: ['none', 'unauthenticated', 'pending', 'authenticated', 'failed'] },
    authorization_url: { type: 'string' },
    reason: { type: 'string' },
    auth_status: registryInfoSchema.properties.auth_status,
    auth_type: registryInfoSchema.properties.auth_type,
  },
  required: ['status', 'auth_status', 'auth_type'],
} as const;

export function registerRegistryAuthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const logger = deps.logger ?? log();
  const session = new LoginSession(() => startRegistryLogin(deps), logger);
  const tags = ['registry-auth'];
  app.addHook('onClose', async () => session.reset('the API server is shutting down'));

  const describe = async () => {
    const info = await deps.registry.info();
    const state = session.current();
    const base = { auth_status: info.auth_status, auth_type: info.auth_type };
    if (state.status === 'pending') return { status: 'pending', authorization_url: state.authorizationUrl, ...base };
    if (info.auth_status === 'authenticated') return { status: 'authenticated', ...base };
    if (state.status === 'failed') return { status: 'failed', reason: state.reason, ...base };
    return { status: info.auth_type === '' ? 'none' : 'unauthenticated', ...base };
  };

  app.post<{ Body: { open_browser?: boolean } | undefined }>(
    `${AUTH_PREFIX}/login`,
    {
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags,
        summary: 'Start signing the API server in to the registry; answers at once with the URL to open',
        description:
          'Returns 200 (ToolHive\'s status code) with `status: pending` and `authorization_url` as soon as the loopback callback listens. ' +
          'The login completes in the background when the user finishes it in a browser; poll `GET /auth/status`. ' +
          'The server opens the URL itself only when `open_browser` is true.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { open_browser: { type: 'boolean', default: false } },
        },
        response: { 200: loginStateSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { attempt } = await session.begin();
      if (request.body?.open_browser === true && deps.opener) {
        await deps.opener(attempt.authorizationUrl).catch((err: unknown) =>
          logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'could not open a browser for the registry login'),
        );
      }
      // 200 as ToolHive answers (Studio checks for it), though the login finishes later: see docs/api.md#headless-login.
      return reply.status(200).send(await describe());
    },
  );

  app.get(
    `${AUTH_PREFIX}/status`,
    {
      schema: {
        tags,
        summary: 'Where the registry login stands',
        response: { 200: loginStateSchema, ...errorResponses },
      },
    },
    async () => describe(),
  );

  app.post(
    `${AUTH_PREFIX}/logout`,
    {
      schema: {
        tags,
        summary: 'Forget the registry tokens and cached data, keeping the OAuth settings (as `thv registry logout`)',
        response: { 200: loginStateSchema, ...errorResponses },
      },
    },
    async () => {
      session.reset();
      await logoutRegistry(deps);
      return describe();
    },
  );
}
