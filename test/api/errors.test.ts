import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RegistryAuthRequiredError, ThvError } from '../../src/core/errors.js';
import { resolvePaths } from '../../src/core/paths.js';
import { RegistryService } from '../../src/registry/service.js';
import { httpStatusFor, toApiError } from '../../src/api/errors.js';
import { makeTempHome } from '../fixtures/cli.js';
import { startTestApi } from './helpers.js';

describe('the error → HTTP table', () => {
  it('gives the statuses of docs/api.md to the codes it names', () => {
    expect(httpStatusFor('registry_auth_required')).toBe(503);
    expect(httpStatusFor('registry_unavailable')).toBe(503);
    expect(httpStatusFor('registry_legacy_format')).toBe(502);
    expect(httpStatusFor('not_found')).toBe(404);
    expect(httpStatusFor('bad_request')).toBe(400);
  });

  it('maps every error code to an HTTP error status', () => {
    for (const code of ERROR_CODES) {
      const status = httpStatusFor(code);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
  });

  it('tells an API client to POST the login route instead of running a CLI command', () => {
    const { status, body } = toApiError(new RegistryAuthRequiredError());
    expect(status).toBe(503);
    expect(body.code).toBe('registry_auth_required');
    expect(body.message).toContain('POST /api/v1beta/registry/auth/login');
    expect(body.message).not.toContain('thv registry login');
  });

  it('keeps a ThvError hint in the message', () => {
    const { body } = toApiError(new ThvError('not_found', 'server "x" not found', { hint: 'Try `fetch`.' }));
    expect(body).toEqual({ code: 'not_found', message: 'server "x" not found: Try `fetch`.' });
  });
});

describe('an unexpected error in a handler', () => {
  it('is a 500 internal whose body hides the details, which go to the log', async () => {
    const home = await makeTempHome();
    const paths = resolvePaths(home.env);
    class BrokenRegistry extends RegistryService {
      override async info(): Promise<never> {
        throw new Error('database password hunter2 at /srv/internal/path');
      }
    }
    const api = await startTestApi({ home, deps: { registry: new BrokenRegistry({ paths, env: home.env, interactive: false }) } });
    try {
      const res = await api.send('/api/v1beta/registry');
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ code: 'internal', message: 'internal server error' });
      expect(api.logLines.join('')).toContain('api request failed');
    } finally {
      await api.close();
      await home.cleanup();
    }
  });
});
