import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const STATE_CHANGING = [
  '/api/v1beta/registry/auth/logout',
  '/api/v1beta/registry/auth/login',
  '/api/v1beta/registry/default/refresh',
  '/api/v1beta/workloads/some-server/stop',
  '/api/v1beta/workloads/some-server/start',
  '/api/v1beta/workloads/some-server/restart',
];

describe('CSRF defence: a web page cannot drive the API through the browser', () => {
  it('a body-less POST from a foreign Origin is 403 forbidden on every state-changing route', async () => {
    for (const path of STATE_CHANGING) {
      for (const origin of ['https://evil.example', 'null', `http://evil.example:${api.server.port}`]) {
        const res = await api.send(path, { method: 'POST', headers: { origin } });
        expect(res.status, `${origin} → ${path}`).toBe(403);
        expect(res.json).toMatchObject({ code: 'forbidden' });
      }
    }
  });

  it('a foreign Origin is refused before the handler runs, so the registry is not changed', async () => {
    const res = await api.send('/api/v1beta/registry/default', {
      method: 'PUT',
      headers: { origin: 'https://evil.example' },
      body: { local_path: '/etc/passwd' },
    });
    expect(res.status).toBe(403);
    expect((await api.send('/api/v1beta/registry')).json).toMatchObject({ registries: [{ type: 'default' }] });
  });

  it('another site on this machine (a loopback Origin with another port, or none) is foreign too', async () => {
    const port = api.server.port;
    for (const origin of [`http://localhost:${port + 1}`, 'http://127.0.0.1', `https://127.0.0.1:${port}`, `http://127.0.0.1.evil.example:${port}`]) {
      const res = await api.send('/api/v1beta/registry/auth/logout', { method: 'POST', headers: { origin } });
      expect(res.status, origin).toBe(403);
    }
  });

  it('a foreign Origin cannot read either: a GET is refused as well', async () => {
    const res = await api.send('/api/v1beta/registry', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ code: 'forbidden' });
  });

  it('the server’s own loopback Origin (as the desktop app sends it) is accepted', async () => {
    const port = api.server.port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      const res = await api.send('/api/v1beta/registry/auth/logout', { method: 'POST', headers: { origin } });
      expect(res.status, origin).toBe(200);
      expect((await api.send('/health', { headers: { origin } })).status).toBe(204);
    }
  });

  it('without an Origin (curl), a body-less POST and a JSON POST still work', async () => {
    expect((await api.send('/api/v1beta/registry/auth/logout', { method: 'POST' })).status).toBe(200);
    expect((await api.send('/api/v1beta/registry/auth/logout', { method: 'POST', body: {} })).status).toBe(200);
    const charset = await api.send('/api/v1beta/registry/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
      rawBody: '{}',
    });
    expect(charset.status).toBe(200);
  });

  it('a body a form could send (text/plain, form-urlencoded, multipart, or no type) is 415, even without an Origin', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const res = await api.send('/api/v1beta/registry/default', {
        method: 'PUT',
        headers: type ? { 'content-type': type } : {},
        rawBody: '{"local_path":"/etc/passwd"}',
      });
      expect(res.status, String(type)).toBe(415);
      expect(res.json).toMatchObject({ code: 'unsupported_media_type' });
    }
    expect((await api.send('/api/v1beta/registry')).json).toMatchObject({ registries: [{ type: 'default' }] });
  });

  it('Sec-Fetch-Site: cross-site is refused on a POST; same-origin and none are fine', async () => {
    const cross = await api.send('/api/v1beta/registry/auth/logout', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).toBe(403);
    expect(cross.json).toMatchObject({ code: 'forbidden' });
    for (const site of ['same-origin', 'none']) {
      const res = await api.send('/api/v1beta/registry/auth/logout', { method: 'POST', headers: { 'sec-fetch-site': site } });
      expect(res.status, site).toBe(200);
    }
  });
});
