#!/usr/bin/env node
// Isolation benchmark (docs/isolation.md): the same stdio fixture run in the sandbox (bubblewrap +
// egress proxy) and unconfined (--isolation none), in one run: start-up (from `thv run` to the first
// tools/call answered) and tools/call latency p50/p99 through the bridge with a minimal raw
// JSON-RPC client. Goals: p50 ≤ 1.1× unsandboxed, start-up ≤ +100 ms. Nothing leaves 127.0.0.1.
//
//   node bench/isolation.mjs [--json]   (or `npm run bench isolation`)   BENCH_CALLS (default 1000), BENCH_STARTS (7)
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tempHomeEnv } from '../scripts/temp-home.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const THV = join(root, 'bin', 'thv.js');
const STDIO_FIXTURE = join(root, 'test', 'fixtures', 'mcp-stdio-server.mjs');
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const run = promisify(execFile);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url, body, session) {
  return new Promise((resolvePost, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolvePost({ status: res.statusCode, session: res.headers['mcp-session-id'], text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function session(url) {
  const init = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session);
  return init.session;
}

let nextId = 1;
const call = (url, sid) => post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' } } }, sid);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchIsolation({ json = false } = {}) {
  try {
    execFileSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true'], { stdio: 'pipe' });
  } catch {
    process.stdout.write('isolation: skipped (bubblewrap cannot run here)\n');
    return;
  }
  const home = await mkdtemp(join(tmpdir(), 'thv-bench-iso-'));
  const env = {
    PATH: process.env.PATH,
    ...tempHomeEnv(home),
    TOOLHIVE_STARTUP_GRACE: '0',
  };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env })).stdout;
  const results = {};
  try {
    const flags = (mode) => (mode === 'none' ? ['--isolation', 'none'] : []);
    const start = async (mode, name) => /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(await thv('run', '--name', name, ...flags(mode), '--', 'node', STDIO_FIXTURE))[1];
    // Start-up: `thv run` until the first tools/call is answered (both include the CLI's own start).
    // The modes alternate, so a change in the machine's load weighs on both alike; one unmeasured
    // start each first (the first sandbox start on a boot also probes bubblewrap, once).
    const starts = { none: [], sandbox: [] };
    for (let i = -1; i < STARTS; i++) {
      for (const mode of i % 2 === 0 ? ['sandbox', 'none'] : ['none', 'sandbox']) {
        const name = `start-${mode}-${i + 1}`;
        const t = process.hrtime.bigint();
        const url = await start(mode, name);
        const sid = await session(url);
        await call(url, sid);
        if (i >= 0) starts[mode].push(Number(process.hrtime.bigint() - t) / 1e6);
        await thv('rm', name);
      }
    }
    // Latency: both workloads up at once, sequential calls in alternating blocks after a warm-up.
    const targets = {};
    for (const mode of ['none', 'sandbox']) {
      const url = await start(mode, `calls-${mode}`);
      targets[mode] = { url, sid: await session(url), times: [] };
      for (let i = 0; i < Math.min(200, CALLS); i++) await call(url, targets[mode].sid);
    }
    const BLOCK = 50;
    for (let done = 0; done < CALLS; done += BLOCK) {
      for (const mode of ['none', 'sandbox']) {
        const { url, sid, times } = targets[mode];
        for (let i = 0; i < Math.min(BLOCK, CALLS - done); i++) {
          const t = process.hrtime.bigint();
          await call(url, sid);
          times.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    }
    for (const mode of ['none', 'sandbox']) {
      const times = targets[mode].times.sort((x, y) => x - y);
      await thv('rm', `calls-${mode}`);
      results[mode] = { startupMs: median(starts[mode]), p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
    }
    // Each sandboxed start against the unsandboxed one next to it: the difference that drift cannot fake.
    results.startupPairsMs = starts.sandbox.map((t, i) => Math.round(t - starts.none[i]));
    results.startupExtraPairedMs = median(results.startupPairsMs);
  } finally {
    await thv('stop', '--all').catch(() => undefined);
    agent.destroy();
    await rm(home, { recursive: true, force: true });
  }
  const ratio = results.sandbox.p50Ms / results.none.p50Ms;
  const extraStart = results.startupExtraPairedMs;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...results, p50Ratio: ratio, startupExtraMs: extraStart })}\n`);
    return;
  }
  const f = (n) => n.toFixed(2).padStart(9);
  process.stdout.write(`isolation (${CALLS} sequential tools/call, ${STARTS} starts each; raw JSON-RPC client)\n`);
  process.stdout.write(`  mode        start-up ms   p50 ms    p99 ms\n`);
  for (const mode of ['none', 'sandbox']) process.stdout.write(`  ${mode.padEnd(10)}${f(results[mode].startupMs)}  ${f(results[mode].p50Ms)} ${f(results[mode].p99Ms)}\n`);
  process.stdout.write(`  paired start-up differences (ms): ${results.startupPairsMs.join(' ')}\n`);
  process.stdout.write(`  sandbox/none p50: ${ratio.toFixed(2)}× (goal ≤ 1.10×); start-up: ${extraStart >= 0 ? '+' : ''}${extraStart.toFixed(0)} ms (median of paired starts; goal ≤ +100 ms)\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchIsolation({ json: process.argv.includes('--json') });
