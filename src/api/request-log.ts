import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/**
 * One line per request with method, path, status and duration. Headers and bodies are never
 * logged (they carry bearer tokens and login codes), and query values that look like credentials
 * are masked by redactUrl.
 */
export function logRequests(app: FastifyInstance, logger: Logger): void {
  app.addHook('onResponse', async (request, reply) => {
    logger.info(
      {
        method: request.method,
        url: redactPath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'api request',
    );
  });
}

function redactPath(url: string): string {
  const redacted = redactUrl(`http://thv.invalid${url}`);
  return redacted.startsWith('http://thv.invalid') ? redacted.slice('http://thv.invalid'.length) : '[unparseable url]';
}
