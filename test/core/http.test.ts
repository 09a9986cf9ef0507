import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchWithBodyLimit, readBodyLimited, readBodyWithin } from '../../src/core/http.js';
import { ThvError } from '../../src/core/errors.js';

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/small') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (req.url === '/empty204') return void res.writeHead(204).end();
    // an endless body without content-length
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (res.write(chunk));
      res.once('drain', pump);
    };
    res.on('error', () => undefined);
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('bounded HTTP bodies', () => {
  it('reads a small body whole', async () => {
    expect(await readBodyLimited(await fetch(`${base}/small`), 1024)).toBe('{"ok":true}');
    expect(await readBodyWithin(await fetch(`${base}/small`), 1024)).toBe('{"ok":true}');
  });

  it('stops an endless body at the limit: an error, undefined, or the cut text, as asked', async () => {
    await expect(readBodyLimited(await fetch(`${base}/endless`), 100_000)).rejects.toBeInstanceOf(ThvError);
    expect(await readBodyWithin(await fetch(`${base}/endless`), 100_000)).toBeUndefined();
    expect(await readBodyLimited(await fetch(`${base}/endless`), 4096, { truncate: true })).toHaveLength(4096);
  });

  it('fetchWithBodyLimit hands libraries a buffered copy, and refuses an oversize one', async () => {
    const limited = fetchWithBodyLimit(fetch, 100_000);
    const ok = await limited(`${base}/small`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    expect((await limited(`${base}/empty204`)).status).toBe(204);
    await expect(limited(`${base}/endless`)).rejects.toThrow(/larger than 98 KiB/);
  });
});
