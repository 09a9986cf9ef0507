import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { ThvError } from '../core/errors.js';

/**
 * npm and PyPI packages are installed before the sandbox starts, outside it, into a folder thv
 * manages (`$XDG_DATA_HOME/toolhive/packages/<hash>`) — as ToolHive installs them when it builds an
 * image — and mounted read-only into the sandbox, so a server never needs registry access at run
 * time (docs/isolation.md, "Packages").
 */
export interface InstalledPackage {
  /** The folder to mount read-only. */
  root: string;
  /** What to run instead of `npx -y pkg` / `uvx pkg`. */
  command: string;
  args: string[];
  /** Extra host folders the command needs (a Python interpreter outside /usr). */
  extraReadOnly: string[];
}

/** `npx -y <spec> [args]` or `uvx <spec> [args]` as written by sources.ts; undefined for other commands. */
export function packageLaunch(command: string, args: string[]): { manager: 'npm' | 'pypi'; spec: string; rest: string[] } | undefined {
  const program = basename(command);
  if (program === 'npx' && args[0] === '-y' && args[1]) return { manager: 'npm', spec: args[1], rest: args.slice(2) };
  if (program === 'uvx' && args[0] && !args[0].startsWith('-')) return { manager: 'pypi', spec: args[0], rest: args.slice(1) };
  return undefined;
}

export async function installPackage(
  launch: { manager: 'npm' | 'pypi'; spec: string; rest: string[] },
  runner: string,
  packagesDir: string,
  env: Record<string, string>,
  onProgress: (line: string) => void,
): Promise<InstalledPackage> {
  const root = join(packagesDir, createHash('sha256').update(`${launch.manager}\0${launch.spec}`).digest('hex').slice(0, 16));
  const marker = join(root, '.thv-installed');
  if (!existsSync(marker)) {
    onProgress(`Installing ${launch.spec} for the sandbox (outside it, into ${root})…`);
    const staging = `${root}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      if (launch.manager === 'npm') {
        const npm = join(dirname(runner), 'npm');
        await run(existsSync(npm) ? npm : 'npm', ['install', '--prefix', staging, '--no-audit', '--no-fund', '--omit=dev', '--no-package-lock', '--loglevel=error', launch.spec], env);
      } else {
        const uv = join(dirname(runner), 'uv');
        const uvCmd = existsSync(uv) ? uv : 'uv';
        await run(uvCmd, ['venv', '--quiet', join(staging, 'venv')], env);
        await run(uvCmd, ['pip', 'install', '--quiet', '--python', join(staging, 'venv', 'bin', 'python'), launch.spec], env);
      }
      await writeFile(join(staging, '.thv-installed'), `${launch.spec}\n`);
      await rm(root, { recursive: true, force: true });
      await rename(staging, root);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw new ThvError('workload_failed', `could not install ${launch.spec} for the sandbox: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check the package name and your network/registry settings; or run it unconfined with --isolation none.',
      });
    }
  }
  return launch.manager === 'npm' ? npmEntry(root, launch) : pypiEntry(root, launch);
}

async function npmEntry(root: string, launch: { spec: string; rest: string[] }): Promise<InstalledPackage> {
  // A local folder (`npx /path/to/pkg`) is installed under its package.json name.
  const local = launch.spec.startsWith('/') || launch.spec.startsWith('.');
  const name = local
    ? (JSON.parse(await readFile(join(resolve(launch.spec), 'package.json'), 'utf8')) as { name: string }).name
    : launch.spec.replace(/(?!^)@[^/]*$/, '');
  const pkgDir = join(root, 'node_modules', name);
  const manifest = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  let bin: string | undefined;
  if (typeof manifest.bin === 'string') bin = manifest.bin;
  else if (manifest.bin) {
    const entries = Object.entries(manifest.bin);
    // npx picks the bin named like the package (without scope), or the only one.
    bin = (manifest.bin[name.split('/').pop()!] ?? (entries.length === 1 ? entries[0]![1] : undefined));
  }
  if (!bin) throw new ThvError('workload_failed', `${name} has no single command to run (package.json "bin")`);
  return { root, command: await realpath(join(pkgDir, bin)), args: launch.rest, extraReadOnly: [] };
}

async function pypiEntry(root: string, launch: { spec: string; rest: string[] }): Promise<InstalledPackage> {
  const name = launch.spec.replace(/[=<>~!@[ ].*$/, '');
  const command = join(root, 'venv', 'bin', name);
  if (!existsSync(command)) throw new ThvError('workload_failed', `${name} installed no command named ${name}`);
  // The venv's python is a symlink to the interpreter uv used; its installation must be visible too.
  const python = await realpath(join(root, 'venv', 'bin', 'python'));
  const prefix = dirname(dirname(python));
  return { root, command, args: launch.rest, extraReadOnly: prefix.startsWith('/usr') ? [] : [prefix] };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${basename(command)} ${args[0]} failed: ${String(stderr).trim().split('\n').slice(-3).join(' ') || err.message}`));
      else resolve();
    });
  });
}
