#!/usr/bin/env node
// Bounded resources of the stdio bridge (docs/workloads.md#limits): a supervisor serving the v2
// dual-era fixture gets LEAK_CALLS tools/call requests to `hang` (a tool that never answers) whose
// clients go away — half 2025-era, half 2026-07-28 — and LEAK_SESSIONS sessions that are opened and
// never closed. Its resident memory is measured before and after, once its memory has settled.
// Goal: back within 20 MB of the start.
//
//   node bench/leak.mjs [--json]   (or `npm run bench leak`)   LEAK_CALLS (default 80000), LEAK_SESSIONS (25000),
//   LEAK_MAX_SECONDS (1800: the bound of the whole run; the full run took 1050 s on a loaded 2-core machine). Heap figures come from bench/leak-probe.mjs,
//   preloaded into the supervisor.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tempHomeEnv } from '../scripts/temp-home.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const THV = join(root, 'bin', 'thv.js');
const FIXTURE = join(root, 'test', 'fixtures', 'mcp-v2-stdio-server.mjs');
const CALLS = Number(process.env.LEAK_CALLS ?? 80_000);
const SESSIONS = Number(process.env.LEAK_SESSIONS ?? 25_000);
const PARALLEL = 64;
// The whole run stops issuing requests after this long and reports how many it made.
const MAX_SECONDS = Number(process.env.LEAK_MAX_SECONDS ?? 1800);
const run = promisify(execFile);
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'leak', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

async function rssMB(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(text)[1]) / 1024;
}

const MB = (bytes) => bytes / 1024 / 1024;

/** The supervisor's memory figures from bench/leak-probe.mjs: as they are, and after a full GC. */
async function probe(pid, file) {
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text) {
      const { before, after } = JSON.parse(text);
      return { rssMB: MB(before.rss), heapUsedMB: MB(before.heapUsed), heapTotalMB: MB(before.heapTotal), externalMB: MB(before.external), rssAfterGcMB: MB(after.rss), heapUsedAfterGcMB: MB(after.heapUsed) };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the supervisor did not answer the memory probe');
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

/** Runs `task(i)` for i < total, PARALLEL at a time, until done or `deadline`; returns how many ran. */
async function inParallel(total, deadline, task) {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < total && Date.now() < deadline) await task(next++);
  }));
  return Math.min(next, total);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function getJson(url) {
  return new Promise((resolveGet, reject) => {
    http.get(url, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolveGet(JSON.parse(t)));
    }).on('error', reject);
  });
}

export async function benchLeak({ json = false } = {}) {
  const home = await mkdtemp(join(tmpdir(), 'thv-leak-'));
  const probeFile = join(home, 'memory.json');
  const env = {
    ...process.env,
    ...tempHomeEnv(home),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import ${pathToFileURL(join(root, 'bench', 'leak-probe.mjs')).href}`.trim(),
    LEAK_PROBE_FILE: probeFile,
  };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env })).stdout;
  const results = { calls: 0, sessions: 0 };
  const started = Date.now();
  const deadline = started + MAX_SECONDS * 1000;
  let sampler;
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
    await sleep(2000);
    results.start = await probe(pid, probeFile);
    results.startMB = await rssMB(pid);
    let peak = results.startMB;
    sampler = setInterval(() => void rssMB(pid).then((mb) => (peak = Math.max(peak, mb)), () => undefined), 250);
    const t0 = Date.now();
    results.calls = await inParallel(CALLS, deadline, (i) =>
      i % 2
        ? post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'hang', arguments: {}, _meta: meta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'hang' }, true)
        : post(agent, url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'hang', arguments: {} } }, { 'mcp-session-id': session }, true),
    );
    results.callsSeconds = (Date.now() - t0) / 1000;
    results.afterCalls = await probe(pid, probeFile);
    const t1 = Date.now();
    results.sessions = await inParallel(SESSIONS, deadline, () => post(agent, url, init, {}, false));
    results.sessionsSeconds = (Date.now() - t1) / 1000;
    results.afterSessionsMB = await rssMB(pid);
    // Nothing left in flight, then settled: at least 20 s, and the same figure (within 1 MB) for 10 s.
    for (;;) {
      results.health = await getJson(url.replace(/\/mcp$/, '/health'));
      if (results.health.inflight === 0 || Date.now() > deadline + 60_000) break;
      await sleep(500);
    }
    const samples = [];
    for (let i = 0; i < 90; i++) {
      await sleep(1000);
      samples.push(await rssMB(pid));
      const last = samples.slice(-10);
      if (i >= 20 && last.length === 10 && Math.max(...last) - Math.min(...last) < 1) break;
    }
    clearInterval(sampler);
    results.peakMB = peak;
    results.endMB = samples.at(-1);
    results.growthMB = results.endMB - results.startMB;
    results.end = await probe(pid, probeFile);
    // The warm-up session was the longest unused at the cap, so it made room: a fresh one.
    const fresh = (await post(agent, url, init, {}, false)).headers['mcp-session-id'];
    const ok = await post(agent, url, { jsonrpc: '2.0', id: 'still', method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } }, { 'mcp-session-id': fresh }, false);
    results.stillServing = ok?.status === 200;
  } finally {
    clearInterval(sampler);
    await thv('stop', '--all').catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
  results.totalSeconds = (Date.now() - started) / 1000;
  results.ok = results.calls === CALLS && results.sessions === SESSIONS && results.growthMB <= 20 && results.stillServing;
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    const f = (n) => n.toFixed(1);
    const heap = (p) => `heap ${f(p.heapUsedMB)} of ${f(p.heapTotalMB)} MB (${f(p.heapUsedAfterGcMB)} MB after a full GC; RSS then ${f(p.rssAfterGcMB)} MB)`;
    process.stdout.write(
      [
        `${results.calls} of ${CALLS} abandoned tools/call (half 2025-era, half 2026-07-28) in ${f(results.callsSeconds)} s, ${results.sessions} of ${SESSIONS} abandoned sessions in ${f(results.sessionsSeconds)} s; ${f(results.totalSeconds)} s in all (bound ${MAX_SECONDS} s)`,
        `supervisor RSS: start ${f(results.startMB)} MB, peak ${f(results.peakMB)} MB, after the sessions ${f(results.afterSessionsMB)} MB, settled ${f(results.endMB)} MB: growth ${f(results.growthMB)} MB (goal <= 20 MB)`,
        `supervisor heap: start ${heap(results.start)}; after the calls ${heap(results.afterCalls)}; end ${heap(results.end)}`,
        `bridge after the run: ${JSON.stringify(results.health)}; still serving: ${results.stillServing}; ${results.ok ? 'PASS' : 'FAIL'}`,
      ].join('\n') + '\n',
    );
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchLeak({ json: process.argv.includes('--json') });
}
