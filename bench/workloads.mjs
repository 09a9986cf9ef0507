#!/usr/bin/env node
// Workload benchmarks (docs/workloads.md#benchmarks): `tools/call` latency (p50/p99) and requests/s for the same stdio
// fixture called directly, through thv's stdio bridge and through supergateway; a streamable-HTTP
// fixture called directly and through thv's remote proxy; and the memory each running workload adds.
// Runs the built CLI (`npm run build` first) against a throwaway XDG home. Nothing leaves 127.0.0.1.
//
//   node bench/workloads.mjs [--json]   (or `npm run bench workloads`)      BENCH_CALLS (default 2000), BENCH_CONCURRENCY (16), BENCH_WORKLOADS (5), BENCH_BLOCK (1)
import { spawn, execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setMaxListeners } from 'node:events';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { tempHomeEnv } from '../scripts/temp-home.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const THV = join(root, 'bin', 'thv.js');
const STDIO_FIXTURE = join(root, 'test', 'fixtures', 'mcp-stdio-server.mjs');
const V2_STDIO_FIXTURE = join(root, 'test', 'fixtures', 'mcp-v2-stdio-server.mjs');
const HTTP_FIXTURE = join(root, 'test', 'fixtures', 'mcp-http-server.mjs');
const FLOOR_SERVER = join(root, 'bench', 'floor-server.mjs');
const BARE_PROXY = join(root, 'bench', 'bare-proxy.mjs');
const TCP_RELAY = join(root, 'bench', 'tcp-relay.mjs');
const SUPERGATEWAY = join(root, 'node_modules', 'supergateway', 'dist', 'index.js');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Calls in a row to one target in each round of the interleaved latency run. */
const BLOCK = Math.max(1, Number(process.env.BENCH_BLOCK ?? 1));
const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 5);
const run = promisify(execFile);

/** The workloads suite of `npm run bench` (bench/run.ts); also runnable alone. */
export async function benchWorkloads({ json = false } = {}) {
  // The SDK's HTTP client adds one abort listener per request to a shared signal; not our leak.
  setMaxListeners(0);
  const home = await mkdtemp(join(tmpdir(), 'thv-bench-'));
  const env = {
    ...process.env,
    ...tempHomeEnv(home),
  };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env })).stdout;
  const urlOf = (stdout) => /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)[1];
  const children = [];

  function percentile(sorted, p) {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }

  async function connect(transport) {
    const client = new Client({ name: 'thv-bench', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  /** Sequential calls for latency, then `CONCURRENCY` callers on one session for throughput. */
  async function measure(client) {
    const call = () => client.callTool({ name: 'echo', arguments: { text: 'bench' } });
    for (let i = 0; i < Math.min(200, CALLS); i++) await call();
    const times = [];
    for (let i = 0; i < CALLS; i++) {
      const t = process.hrtime.bigint();
      await call();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    let remaining = CALLS * 2;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (remaining-- > 0) await call();
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await client.close();
    return { p50: percentile(times, 50), p99: percentile(times, 99), rps: (CALLS * 2) / seconds };
  }

  async function freePort() {
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    await new Promise((r) => server.close(r));
    return port;
  }

  async function waitUntilConnectable(url, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await fetch(url, { method: 'GET', signal: AbortSignal.timeout(500) }).then((r) => r.body?.cancel());
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`${url} did not come up`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Resident, proportional and unique (private) memory of a process, in MB, from /proc. */
  async function memoryOf(pid) {
    try {
      const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024, uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
    } catch {
      const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
      const rss = Number(stdout.trim()) / 1024;
      return { rss, pss: rss, uss: rss };
    }
  }

  /** A minimal JSON-RPC client without the SDK, so the figures show the server side, not the client. */
  function rawStdioClient(fixture = STDIO_FIXTURE, { modern = false } = {}) {
    const child = spawn(process.execPath, [fixture], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(child);
    const pending = new Map();
    let buffer = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const msg = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        pending.get(msg.id)?.(msg);
        pending.delete(msg.id);
      }
    });
    let id = 0;
    const request = (method, params) =>
      new Promise((resolveMsg) => {
        const n = ++id;
        pending.set(n, resolveMsg);
        child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: n, method, params })}\n`);
      });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    if (modern) return { init: async () => undefined, call: () => request('tools/call', { name: 'echo', arguments: { text: 'bench' }, _meta: meta }), close: async () => child.kill() };
    return {
      init: async () => {
        await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
        child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      },
      call: () => request('tools/call', { name: 'echo', arguments: { text: 'bench' } }),
      close: async () => child.kill(),
    };
  }

  /**
   * Starts a server script that prints its URL on stdout (a fixture, the floor, the bare proxy); it is
   * stopped at the end. Every server of the suite runs in a session of its own, as thv's supervisors
   * (started detached) and any server a client did not start itself do: Linux schedules processes in
   * groups by session (autogroup), and a server sharing the bench's group would be favoured over thv's.
   */
  async function serverProcess(...args) {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    children.push(child);
    return new Promise((resolveUrl, reject) => {
      child.stdout.setEncoding('utf8').once('data', (d) => resolveUrl(d.trim()));
      child.once('exit', () => reject(new Error(`${args[0]} exited`)));
    });
  }

  function rawHttpClient(url, { modern = false } = {}) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const target = new URL(url);
    let session;
    let id = 0;
    // A kept-alive socket the server closed while idle (between interleaved rounds) is retried once.
    const post = (body, retried = false) =>
      new Promise((resolveMsg, reject) => {
        const payload = JSON.stringify(body);
        const req = http.request(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'content-length': Buffer.byteLength(payload),
              ...(session ? { 'mcp-session-id': session } : {}),
              ...(modern ? { 'mcp-protocol-version': '2026-07-28', 'mcp-method': body.method, ...(body.params?.name ? { 'mcp-name': body.params.name } : {}) } : {}),
            },
          },
          (res) => {
            session ??= res.headers['mcp-session-id'];
            let text = '';
            res.setEncoding('utf8').on('data', (d) => (text += d));
            res.on('end', () => {
              if (!text) return resolveMsg(undefined);
              const json = text.startsWith('{') || text.startsWith('[') ? text : text.split('\n').filter((l) => l.startsWith('data:')).pop().slice(5);
              resolveMsg(JSON.parse(json));
            });
          },
        );
        req.on('error', (err) => (!retried && req.reusedSocket && err.code === 'ECONNRESET' ? post(body, true).then(resolveMsg, reject) : reject(err)));
        req.end(payload);
      });
    if (modern) {
      return {
        init: async () => undefined,
        call: () => post({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' }, _meta: meta } }),
        close: async () => agent.destroy(),
      };
    }
    return {
      init: async () => {
        await post({ jsonrpc: '2.0', id: ++id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
        await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
      },
      call: () => post({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' } } }),
      close: async () => agent.destroy(),
    };
  }

  /**
   * The targets of each latency round in a new random order (a fixed seed, so runs compare). A call
   * is faster or slower depending on what ran just before it (whether the server it shares was just
   * used, whose code the caches hold); with a rotating order each target always followed the same
   * one, which favoured some targets by up to 0.4 ms (docs/workloads.md#benchmarks).
   */
  function shuffler(names) {
    let seed = 0x2f6b3a1d;
    const random = () => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return () => {
      const order = [...names];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      return order;
    };
  }

  /**
   * The raw clients measured side by side, so that a change in the machine's load (it is shared)
   * weighs on every target alike and ratios stay fair: each round of the latency run calls every
   * target BLOCK times in a row (targets in a random order, see shuffler), and throughput is
   * measured in alternating short rounds. BLOCK is 1 by default, as a client whose calls come
   * seconds apart (a model thinks between them) makes them: each call finds the caches holding other
   * processes' code. BENCH_BLOCK=20 measures calls in quick succession instead.
   */
  async function measureInterleaved(clients) {
    const names = Object.keys(clients);
    for (const name of names) await clients[name].init();
    for (let i = 0; i < Math.min(200, CALLS); i++) for (const name of names) await clients[name].call();
    const times = Object.fromEntries(names.map((n) => [n, []]));
    const order = shuffler(names);
    for (let round = 0; round < Math.ceil(CALLS / BLOCK); round++) {
      for (const name of order()) {
        for (let i = 0; i < BLOCK; i++) {
          const t = process.hrtime.bigint();
          await clients[name].call();
          times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    }
    const ROUNDS = 4;
    const busy = Object.fromEntries(names.map((n) => [n, 0]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(r + k) % names.length];
        let remaining = Math.ceil((CALLS * 2) / ROUNDS);
        const start = process.hrtime.bigint();
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (remaining-- > 0) await clients[name].call();
        }));
        busy[name] += Number(process.hrtime.bigint() - start) / 1e9;
      }
    }
    const out = {};
    for (const name of names) {
      const sorted = times[name].sort((a, b) => a - b);
      out[name] = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), rps: (Math.ceil((CALLS * 2) / ROUNDS) * ROUNDS) / busy[name] };
      await clients[name].close();
    }
    return out;
  }

  const results = {};
  try {
    // stdio: direct, through the bridge, through supergateway.
    results.stdioDirect = await measure(await connect(new StdioClientTransport({ command: process.execPath, args: [STDIO_FIXTURE], stderr: 'ignore' })));

    // The bridge alone, as the floor and supergateway are: unsandboxed. The sandbox's own cost is measured
    // by `npm run bench isolation` (docs/isolation.md), so it is not counted twice here.
    const bridgeUrl = urlOf(await thv('run', '--name', 'bench-bridge', '--isolation', 'none', '--', process.execPath, STDIO_FIXTURE));
    results.stdioBridge = await measure(await connect(new StreamableHTTPClientTransport(new URL(bridgeUrl))));

    const sgPort = await freePort();
    const sg = spawn(
      process.execPath,
      [SUPERGATEWAY, '--stdio', `${process.execPath} ${STDIO_FIXTURE}`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(sgPort), '--logLevel', 'none'],
      { stdio: 'ignore', detached: true },
    );
    children.push(sg);
    const sgUrl = `http://127.0.0.1:${sgPort}/mcp`;
    await waitUntilConnectable(sgUrl);
    results.supergateway = await measure(await connect(new StreamableHTTPClientTransport(new URL(sgUrl))));

    // streamable HTTP: direct, through the remote proxy.
    const upstreamUrl = await serverProcess(HTTP_FIXTURE);
    results.httpDirect = await measure(await connect(new StreamableHTTPClientTransport(new URL(upstreamUrl))));
    const proxyUrl = urlOf(await thv('run', upstreamUrl, '--name', 'bench-remote'));
    results.remoteProxy = await measure(await connect(new StreamableHTTPClientTransport(new URL(proxyUrl))));

    // Memory: WORKLOADS more stdio workloads; what each adds is its supervisor (the server itself is
    // the same process with or without thv).
    const supervisors = [];
    for (let i = 0; i < WORKLOADS; i++) {
      await thv('run', '--name', `bench-mem-${i}`, '--', process.execPath, STDIO_FIXTURE);
      const status = JSON.parse(await thv('status', `bench-mem-${i}`, '--format', 'json'));
      supervisors.push(status.process_id);
    }
    // Let start-up garbage settle.
    await new Promise((r) => setTimeout(r, 1000));
    const mems = await Promise.all(supervisors.map(memoryOf));
    const avg = (key) => mems.reduce((a, m) => a + m[key], 0) / mems.length;
    results.memoryPerWorkload = { rssMB: avg('rss'), pssMB: avg('pss'), ussMB: avg('uss'), workloads: WORKLOADS };

    // The floor runs in its own process, as the bridge does (bench/floor-server.mjs).
    const floorUrl = await serverProcess(FLOOR_SERVER, STDIO_FIXTURE);
    // A reference for the remote proxy: a bare node:http proxy in front of the same server.
    const bareProxyUrl = await serverProcess(BARE_PROXY, upstreamUrl);
    // And the least any proxy process adds: bytes copied both ways, nothing parsed.
    const tcpRelayUrl = await serverProcess(TCP_RELAY, upstreamUrl);
    const dualUrl = urlOf(await thv('run', '--name', 'bench-dual', '--isolation', 'none', '--', process.execPath, V2_STDIO_FIXTURE));
    results.raw = await measureInterleaved({
      floor: rawHttpClient(floorUrl),
      stdioDirect: rawStdioClient(),
      stdioBridge: rawHttpClient(bridgeUrl),
      supergateway: rawHttpClient(sgUrl),
      httpDirect: rawHttpClient(upstreamUrl),
      remoteProxy: rawHttpClient(proxyUrl),
      bareProxy: rawHttpClient(bareProxyUrl),
      tcpRelay: rawHttpClient(tcpRelayUrl),
      v2LegacyDirect: rawStdioClient(V2_STDIO_FIXTURE),
      v2ModernDirect: rawStdioClient(V2_STDIO_FIXTURE, { modern: true }),
      v2Legacy: rawHttpClient(dualUrl),
      v2Modern: rawHttpClient(dualUrl, { modern: true }),
    });
  } finally {
    await thv('stop', '--all').catch(() => undefined);
    for (const child of children) {
      // A detached server leads its own process group, its own children included (supergateway's, the floor's).
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }
    await rm(home, { recursive: true, force: true });
  }

  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    const f = (n) => n.toFixed(3);
    const line = (label, r, ref, refLabel) =>
      `${label.padEnd(28)} p50 ${f(r.p50)} ms  p99 ${f(r.p99)} ms  ${r.rps.toFixed(0).padStart(6)} req/s` +
      (ref ? `   vs ${refLabel}: p50 +${f(r.p50 - ref.p50)} ms, throughput x${(r.rps / ref.rps).toFixed(2)}` : '');
    const out = [
      `tools/call, ${CALLS} sequential calls (latency) and ${CALLS * 2} calls by ${CONCURRENCY} concurrent callers (throughput)`,
      line('stdio direct (SDK stdio)', results.stdioDirect),
      line('thv stdio bridge', results.stdioBridge, results.stdioDirect, 'direct'),
      line('supergateway (stateful)', results.supergateway, results.stdioDirect, 'direct'),
      `  bridge vs supergateway: p50 ${f(results.stdioBridge.p50)} vs ${f(results.supergateway.p50)} ms, throughput x${(results.stdioBridge.rps / results.supergateway.rps).toFixed(2)}`,
      line('streamable HTTP direct', results.httpDirect),
      line('thv remote proxy', results.remoteProxy, results.httpDirect, 'direct'),
      'the same with a minimal raw JSON-RPC client (no SDK), which isolates the server-side cost; all of these measured interleaved (same load):',
      line('  stdio direct', results.raw.stdioDirect),
      line('  thv stdio bridge', results.raw.stdioBridge, results.raw.stdioDirect, 'direct'),
      line('  supergateway (stateful)', results.raw.supergateway, results.raw.stdioDirect, 'direct'),
      `    bridge vs supergateway: p50 ${f(results.raw.stdioBridge.p50)} vs ${f(results.raw.supergateway.p50)} ms, throughput x${(results.raw.stdioBridge.rps / results.raw.supergateway.rps).toFixed(2)}`,
      line('  streamable HTTP direct', results.raw.httpDirect),
      line('  thv remote proxy', results.raw.remoteProxy, results.raw.httpDirect, 'direct'),
      line('  bare node:http proxy (ref.)', results.raw.bareProxy, results.raw.httpDirect, 'direct'),
      line('  TCP relay (ref.)', results.raw.tcpRelay, results.raw.httpDirect, 'direct'),
      line('  floor: bare HTTP + stdio hop', results.raw.floor),
      `    bridge p50 / floor p50: ${(results.raw.stdioBridge.p50 / results.raw.floor.p50).toFixed(2)} (goal <= 1.25)`,
      `    bridge throughput / supergateway: x${(results.raw.stdioBridge.rps / results.raw.supergateway.rps).toFixed(2)} (goal >= 2)`,
      `    remote proxy p50 over direct: +${f(results.raw.remoteProxy.p50 - results.raw.httpDirect.p50)} ms (goal <= 0.5 ms); a bare node:http proxy adds +${f(results.raw.bareProxy.p50 - results.raw.httpDirect.p50)} ms, a TCP relay +${f(results.raw.tcpRelay.p50 - results.raw.httpDirect.p50)} ms`,
      line('  v2 server direct, 2025-era', results.raw.v2LegacyDirect),
      line('  v2 server direct, 2026-07-28', results.raw.v2ModernDirect, results.raw.v2LegacyDirect, '2025-era'),
      line('  v2 server bridged, 2025-era', results.raw.v2Legacy, results.raw.v2LegacyDirect, 'direct'),
      line('  v2 server bridged, 2026-07-28', results.raw.v2Modern, results.raw.v2ModernDirect, 'direct'),
      `    bridged 2026-07-28 / 2025-era p50: ${(results.raw.v2Modern.p50 / results.raw.v2Legacy.p50).toFixed(2)} (goal <= 1); bridge's own cost: modern +${f(results.raw.v2Modern.p50 - results.raw.v2ModernDirect.p50)} ms, 2025-era +${f(results.raw.v2Legacy.p50 - results.raw.v2LegacyDirect.p50)} ms`,
      `memory per running workload (supervisor, average of ${results.memoryPerWorkload.workloads}): ` +
        `unique ${results.memoryPerWorkload.ussMB.toFixed(1)} MB, proportional ${results.memoryPerWorkload.pssMB.toFixed(1)} MB, resident ${results.memoryPerWorkload.rssMB.toFixed(1)} MB`,
      'goals: bridge overhead < 1 ms p50; throughput ahead of supergateway; < 25 MB per additional workload (unique memory)',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchWorkloads({ json: process.argv.includes('--json') });
}
