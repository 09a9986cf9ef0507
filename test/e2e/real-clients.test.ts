import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeTempHome, runThv, type TempHome, workloadUrlIn } from '../fixtures/cli.js';
import { STDIO_FIXTURE, isAlive, pidsIn } from '../workloads/helpers.js';

/*
 * The real clients, from npm, asked through their own `mcp list` commands whether they see what thv
 * wrote. Pinned versions; installed once into a cache outside the package's dependencies (together
 * about 900 MB, which `npm ci` should not pay for every other test). docs/clients.md has the figures.
 */
const CLIENT_PACKAGES = ['@anthropic-ai/claude-code@2.1.332', '@openai/codex@0.171.0', '@google/gemini-cli@0.61.0'];
const CACHE = process.env.THV_REAL_CLIENTS_CACHE ?? resolve(import.meta.dirname, '../../node_modules/.cache/thv-real-clients');
const BIN = join(CACHE, 'node_modules', '.bin');
const exec = promisify(execFile);

const supported = process.platform === 'linux' && process.arch === 'x64';
if (!supported) console.error(`real-clients: skipped: the pinned native client binaries are installed for linux-x64 only (this is ${process.platform}-${process.arch})`);

async function installClients(): Promise<void> {
  const marker = join(CACHE, 'installed.json');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === JSON.stringify(CLIENT_PACKAGES)) return;
  await mkdir(CACHE, { recursive: true });
  await writeFile(join(CACHE, 'package.json'), '{ "name": "thv-real-clients", "private": true }\n');
  // --no-save: the cache's own manifest stays empty; --engine-strict=false: Claude Code's
  // package asks for Node 22, but what runs is its native binary.
  await exec('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--engine-strict=false', '--prefix', CACHE, ...CLIENT_PACKAGES], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  await writeFile(marker, JSON.stringify(CLIENT_PACKAGES));
}

let home: TempHome;
let pidFile: string;

/** A client's own command, with nothing of thv's environment but HOME and a plain PATH. */
async function clientSays(bin: string, args: string[]): Promise<string> {
  const env = {
    HOME: home.root,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NO_COLOR: '1',
    CI: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
  try {
    const { stdout, stderr } = await exec(join(BIN, bin), args, { env, cwd: home.root, timeout: 120_000 });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`;
  }
}

describe.runIf(supported)('real clients see what thv registers (Claude Code, Codex, Gemini CLI)', () => {
  beforeAll(async () => {
    await installClients();
    home = await makeTempHome();
    pidFile = join(home.root, 'fixture-pids');
    // Installed: each client's folder exists. Gemini only connects to servers in a trusted folder;
    // a user who runs servers has made that choice, so the test makes it too.
    await mkdir(join(home.root, '.claude'), { recursive: true });
    await mkdir(join(home.root, '.codex'), { recursive: true });
    await mkdir(join(home.root, '.gemini'), { recursive: true });
    await writeFile(join(home.root, '.gemini', 'settings.json'), '{\n  "security": { "folderTrust": { "enabled": false } }\n}\n');
  }, 900_000);

  afterAll(async () => {
    if (!home) return;
    await runThv(['stop', '--all'], home);
    for (const pid of (await pidsIn(pidFile)).filter(isAlive)) process.kill(pid, 'SIGKILL');
    await home.cleanup();
  });

  it('after `thv client register` each lists the running workload (Claude Code and Gemini connect to it); after `thv rm` none does', async () => {
    const registered = await runThv(['client', 'register', 'claude-code', 'codex', 'gemini-cli'], home);
    expect(registered.code, registered.stderr).toBe(0);
    const run = await runThv(['run', '--name', 'thv-fetch', '--isolation', 'none', '-e', `FIXTURE_PID_FILE=${pidFile}`, '--', 'node', STDIO_FIXTURE], home, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const url = workloadUrlIn(run.stdout);

    const [claude, codex, gemini] = await Promise.all([clientSays('claude', ['mcp', 'list']), clientSays('codex', ['mcp', 'list']), clientSays('gemini', ['mcp', 'list'])]);
    expect(claude).toContain(`thv-fetch: ${url} (HTTP) - ✔ Connected`);
    expect(codex).toMatch(new RegExp(`^thv-fetch\\s+${url.replace(/[.]/g, '\\.')}\\s+.*enabled`, 'm'));
    expect(gemini).toMatch(new RegExp(`thv-fetch: ${url.replace(/[.]/g, '\\.')} \\(http\\) - Connected`));

    expect((await runThv(['rm', 'thv-fetch'], home)).code).toBe(0);
    const after = await Promise.all([clientSays('claude', ['mcp', 'list']), clientSays('codex', ['mcp', 'list']), clientSays('gemini', ['mcp', 'list'])]);
    for (const text of after) expect(text).not.toContain('thv-fetch');
    // The user's own Gemini setting is still there.
    expect(JSON.parse(await readFile(join(home.root, '.gemini', 'settings.json'), 'utf8'))).toMatchObject({ security: { folderTrust: { enabled: false } } });
  }, 300_000);
});
