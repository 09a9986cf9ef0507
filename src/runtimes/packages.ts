import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { ThvError } from '../core/errors.js';
import { envText } from '../core/env.js';

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
        await installPypi(pipRequirement(launch.spec), runner, join(staging, 'venv'), env);
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

/**
 * A PyPI package goes into its own virtual environment: with uv when it is installed (next to
 * `uvx`, else on PATH), otherwise with Python's own `venv` and pip — Debian and most distributions
 * ship them (python3-venv), while uv often is not packaged (docs/isolation.md, "Packages"). Both
 * read the index from the environment: UV_INDEX_URL/UV_DEFAULT_INDEX for uv, PIP_INDEX_URL for pip.
 */
async function installPypi(requirement: string, runner: string, venv: string, env: Record<string, string>): Promise<void> {
  const besideRunner = runner.includes('/') ? join(dirname(runner), 'uv') : undefined;
  const uv = besideRunner && existsSync(besideRunner) ? besideRunner : findOnPath('uv', env);
  if (uv) {
    await run(uv, ['venv', '--quiet', venv], env);
    await run(uv, ['pip', 'install', '--quiet', '--python', join(venv, 'bin', 'python'), requirement], env);
    return;
  }
  const python = findOnPath('python3', env);
  if (!python) {
    throw new Error('neither uv nor python3 was found on PATH (install uv, or python3 with venv: apt-get install python3-venv)');
  }
  await run(python, ['-m', 'venv', venv], env);
  await run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', requirement], env);
}

/** uvx's `pkg@1.2.3` is pip's (and `uv pip`'s) `pkg==1.2.3`; other requirement forms pass unchanged. */
export function pipRequirement(spec: string): string {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)@([^@/\s]+)$/.exec(spec);
  return m ? `${m[1]}==${m[2]}` : spec;
}

async function pypiEntry(root: string, launch: { spec: string; rest: string[] }): Promise<InstalledPackage> {
  const name = launch.spec.replace(/[=<>~!@[ ].*$/, '');
  const script = join(root, 'venv', 'bin', name);
  if (!existsSync(script)) throw new ThvError('workload_failed', `${name} installed no command named ${name}`);
  // The venv's python is a symlink to the interpreter uv or venv used; its installation must be visible too.
  const python = await realpath(join(root, 'venv', 'bin', 'python'));
  const prefix = dirname(dirname(python));
  // The script's #! line names the staging folder it was installed in, which is renamed once the
  // install is complete: the venv's python runs it instead (and finds the venv next to itself).
  return { root, command: join(root, 'venv', 'bin', 'python'), args: [script, ...launch.rest], extraReadOnly: prefix === '/usr' || prefix.startsWith('/usr/') ? [] : [prefix] };
}

function findOnPath(program: string, env: Record<string, string>): string | undefined {
  for (const dir of (envText(env, 'PATH') ?? '').split(':')) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${basename(command)} ${args[0]} failed: ${String(stderr).trim().split('\n').slice(-3).join(' ') || err.message}`));
      else resolve();
    });
  });
}
