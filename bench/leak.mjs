#!/usr/bin/env node
// Bounded resources of the stdio bridge (docs/workloads.md#limits): a supervisor serving the v2
// dual-era fixture gets LEAK_CALLS tools/call requests to `hang` (a tool that never answers) whose
// clients go away — half 2025-era, half 2026-07-28 — and LEAK_SESSIONS sessions that are opened and
// never closed. Its resident memory is measured before and after, once its memory has settled.
// Goal: back within 20 MB of the start.
//
//   node bench/leak.mjs [--json]   (or `npm run bench leak`)   LEAK_CALLS (default 80000), LEAK_SESSIONS (25000)
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const THV = join(root, 'bin', 'thv.js');
const FIXTURE = join(root, 'test', 'fixtures', 'mcp-v2-stdio-server.mjs');
const CALLS = Number(process.env.LEAK_CALLS ?? 80_000);
const SESSIONS = Number(process.env.LEAK_SESSIONS ?? 25_000);
const PARALLEL = 64;
const run = promisify(execFile);
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'leak', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

async function rssMB(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(text)[1]) / 1024;
}

/** One POST; `abandon` drops the connection once the request is sent (the server never answers). */
function post(agent, url, body, headers, abandon) {
  return new Promise((resolvePost) => {
    const payload = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d));
      res.on('end', () => resolvePost({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', () => resolvePost(undefined));
    req.end(payload, () => {
      // Sent: a client that gives up now is one the bridge must forget.
      if (abandon) setTimeout(() => req.destroy(), 5);
    });
  });
}

async function inParallel(total, task) {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < total) await task(next++);
  }));
}

export async function benchLeak({ json = false } = {}) {
  const home = await mkdtemp(join(tmpdir(), 'thv-leak-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache'), TOOLHIVE_NO_KEYRING: '1' };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env })).stdout;
  const results = {};
  try {
    const url = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(await thv('run', '--name', 'leak', '--', process.execPath, FIXTURE))[1];
    const pid = JSON.parse(await thv('status', 'leak', '--format', 'json')).process_id;
    const agent = new http.Agent({ keepAlive: false });
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'leak', version: '1' } } };
    // Warm up both eras (and the second child) before the first measurement.
    const session = (await post(agent, url, init, {}, false)).headers['mcp-session-id'];
    for (let i = 0; i < 200; i++) {
      await post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: 'w' } } }, { 'mcp-session-id': session }, false);
      await post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: 'w' }, _meta: meta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, false);
    }
    await new Promise((r) => setTimeout(r, 2000));
    results.startMB = await rssMB(pid);
    const t0 = Date.now();
    await inParallel(CALLS, (i) =>
      i % 2
        ? post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'hang', arguments: {}, _meta: meta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'hang' }, true)
        : post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'hang', arguments: {} } }, { 'mcp-session-id': session }, true),
    );
    results.callsSeconds = (Date.now() - t0) / 1000;
    results.peakAfterCallsMB = await rssMB(pid);
    const t1 = Date.now();
    await inParallel(SESSIONS, () => post(agent, url, init, {}, false));
    results.sessionsSeconds = (Date.now() - t1) / 1000;
    results.peakAfterSessionsMB = await rssMB(pid);
    // Nothing left in flight, then settled: at least 20 s, and the same figure (within 1 MB) for 10 s.
    for (;;) {
      const health = JSON.parse((await new Promise((r) => http.get(url.replace(/\/mcp$/, '/health'), (res) => { let t = ''; res.on('data', (d) => (t += d)); res.on('end', () => r(t)); }))));
      results.health = health;
      if (health.inflight === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const samples = [];
    for (let i = 0; i < 90; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push(await rssMB(pid));
      const last = samples.slice(-10);
      if (i >= 20 && last.length === 10 && Math.max(...last) - Math.min(...last) < 1) break;
    }
    results.endMB = samples.at(-1);
    results.growthMB = results.endMB - results.startMB;
    // The warm-up session was the longest unused at the cap, so it made room: a fresh one.
    const fresh = (await post(agent, url, init, {}, false)).headers['mcp-session-id'];
    const ok = await post(agent, url, { jsonrpc: '2.0', id: 'still', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } }, { 'mcp-session-id': fresh }, false);
    results.stillServing = ok?.status === 200;
  } finally {
    await thv('stop', '--all').catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    process.stdout.write(
      [
        `${CALLS} abandoned tools/call (half 2025-era, half 2026-07-28) in ${results.callsSeconds.toFixed(1)} s, ${SESSIONS} abandoned sessions in ${results.sessionsSeconds.toFixed(1)} s`,
        `supervisor RSS: start ${results.startMB.toFixed(1)} MB, after the calls ${results.peakAfterCallsMB.toFixed(1)} MB, after the sessions ${results.peakAfterSessionsMB.toFixed(1)} MB, settled ${results.endMB.toFixed(1)} MB (growth ${results.growthMB.toFixed(1)} MB; goal <= 20 MB); still serving: ${results.stillServing}`,
        `bridge after the run: ${JSON.stringify(results.health)}`,
      ].join('\n') + '\n',
    );
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchLeak({ json: process.argv.includes('--json') });
}
