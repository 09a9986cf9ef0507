// Container benchmark (docs/runtimes.md): the same MCP server (test/fixtures/container/probe-server.mjs)
// run by `thv run` as a host process (--isolation none) and as a container through a real Podman
// engine (test/fixtures/podman.ts), in one run: start-up (from `thv run` to the first tools/call
// answered) and tools/call p50/p99 through the bridge. Nothing leaves 127.0.0.1.
//
//   npm run bench container        BENCH_CALLS (default 300), BENCH_STARTS (3)
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startPodman } from '../test/fixtures/podman.js';
import { tempHomeEnv } from '../scripts/temp-home.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const THV = join(root, 'bin', 'thv.js');
const SERVER = join(root, 'test', 'fixtures', 'container', 'probe-server.mjs');
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const run = promisify(execFile);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: unknown, session?: string): Promise<{ session?: string; text: string }> {
  return new Promise((done, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => done({ session: res.headers['mcp-session-id'] as string | undefined, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function session(url: string): Promise<string | undefined> {
  const init = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session);
  return init.session;
}

let nextId = 1;
const call = (url: string, sid?: string) => post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' } } }, sid);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function benchContainer(): Promise<void> {
  const started = await startPodman();
  if ('skip' in started) {
    process.stdout.write(`container: skipped (${started.skip})\n`);
    return;
  }
  const { engine } = started;
  const home = await mkdtemp(join(tmpdir(), 'thv-bench-ctr-'));
  const env = {
    PATH: process.env.PATH,
    ...tempHomeEnv(home),
    TOOLHIVE_STARTUP_GRACE: '0',
    ...engine.env,
  };
  const thv = async (...args: string[]) => (await run(process.execPath, [THV, ...args], { env, maxBuffer: 1 << 24 })).stdout;
  // The same server three ways: a host process and a stdio container behind the bridge, and a
  // streamable-HTTP container (allow-all profile: port published on 127.0.0.1) behind the HTTP proxy.
  const modes: Record<string, string[]> = {
    process: ['--isolation', 'none', '--', 'node', SERVER],
    container: [engine.image],
    'container-http': [engine.image, '--transport', 'streamable-http', '--target-port', '8080', '--permission-profile', 'network'],
  };
  const results: Record<string, { startMs: number; p50: number; p99: number }> = {};
  try {
    for (const [mode, target] of Object.entries(modes)) {
      const starts: number[] = [];
      let url = '';
      for (let i = 0; i < STARTS; i++) {
        const name = `bench-${mode}-${i}`;
        const t = process.hrtime.bigint();
        const out = await thv('run', '--name', name, ...target);
        url = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(out)![1]!;
        const sid = await session(url);
        await call(url, sid);
        starts.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (i < STARTS - 1) await thv('rm', name);
      }
      const sid = await session(url);
      for (let i = 0; i < 20; i++) await call(url, sid);
      const times: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const t = process.hrtime.bigint();
        await call(url, sid);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      times.sort((a, b) => a - b);
      starts.sort((a, b) => a - b);
      results[mode] = { startMs: starts[Math.floor(starts.length / 2)]!, p50: pct(times, 50), p99: pct(times, 99) };
      await thv('rm', `bench-${mode}-${STARTS - 1}`);
    }
  } finally {
    await rm(home, { recursive: true, force: true });
    await engine.stop();
  }
  const p = results.process!;
  const f = (n: number) => n.toFixed(2);
  for (const mode of ['container', 'container-http']) {
    const c = results[mode]!;
    process.stdout.write(`${mode}: start-up median ${f(c.startMs)} ms vs process ${f(p.startMs)} ms (+${f(c.startMs - p.startMs)} ms)\n`);
    process.stdout.write(`${mode}: tools/call p50 ${f(c.p50)} ms vs process ${f(p.p50)} ms (${f(c.p50 / p.p50)}×), p99 ${f(c.p99)} vs ${f(p.p99)} ms (${CALLS} calls)\n`);
  }
}
