import { spawn } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { ThvError, type ErrorCode, ERROR_CODES } from '../core/errors.js';
import { tightenFolder } from '../core/files.js';
import type { ReadyMessage } from './supervisor-main.js';
import type { SupervisorSecrets } from './supervisor-types.js';
import { openLogForAppend, rotateLogIfLarge } from './log-rotation.js';
import { scrubSecretEnv } from '../isolation/secret-env.js';

/** dist/supervisor.js next to the bundle; from sources (tests), the built one at the repo root. */
export function defaultSupervisorEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'supervisor.js');
  if (existsSync(beside)) return beside;
  return join(here, '..', '..', 'dist', 'supervisor.js');
}

export interface LaunchOptions {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  cwd: string;
  secrets: SupervisorSecrets;
  timeoutMs?: number;
}

/**
 * Starts a detached supervisor (its own session, stdout/stderr to the workload log) and waits for
 * its one-line ready report on fd 3. Secrets travel on its stdin, never in argv, env or files.
 */
export async function launchSupervisor(options: LaunchOptions): Promise<{ url: string; port: number; pid: number }> {
  await mkdir(dirname(options.logFile), { recursive: true, mode: 0o700 });
  await tightenFolder(dirname(options.logFile));
  await rotateLogIfLarge(options.logFile);
  const logFd = openLogForAppend(options.logFile);
  // A young generation of at most 2 × 2 MB: V8 grows it to 2 × 16 MB under a burst of requests and
  // never shrinks it again, not even in a full collection — 30 MB of a supervisor's memory for good
  // (measured with `npm run bench leak`; docs/workloads.md#limits).
  const child = spawn(process.execPath, ['--max-semi-space-size=2', options.entry, options.name], {
    detached: true,
    stdio: ['pipe', logFd, logFd, 'pipe'],
    // Credentials never enter a supervisor's environment, which /proc/<pid>/environ shows for its
    // whole life; what it needs of them travels on stdin (docs/isolation.md, "Secrets").
    env: scrubSecretEnv(options.env),
    cwd: options.cwd,
    windowsHide: true,
  });
  closeSync(logFd);
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(JSON.stringify(options.secrets));
  const ready = child.stdio[3] as Readable;
  try {
    const message = await new Promise<ReadyMessage | undefined>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new ThvError('workload_failed', `workload "${options.name}" did not start within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`, { hint: `See \`thv logs ${options.name}\`.` })), options.timeoutMs ?? 60_000);
      ready.setEncoding('utf8');
      ready.on('data', (d: string) => (text += d));
      const finish = () => {
        clearTimeout(timer);
        const line = text.split('\n')[0]?.trim();
        try {
          resolve(line ? (JSON.parse(line) as ReadyMessage) : undefined);
        } catch {
          resolve(undefined);
        }
      };
      ready.on('end', finish);
      ready.on('close', finish);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    if (message?.ok && message.url && message.port !== undefined) return { url: message.url, port: message.port, pid: child.pid! };
    if (message && !message.ok) {
      const code = (ERROR_CODES as readonly string[]).includes(message.code ?? '') ? (message.code as ErrorCode) : 'workload_failed';
      throw new ThvError(code, message.message ?? 'the workload failed to start', { hint: message.hint ?? `See \`thv logs ${options.name}\`.` });
    }
    throw new ThvError('workload_failed', `the supervisor of "${options.name}" exited before the workload started${await logTail(options.logFile)}`, {
      hint: `See \`thv logs ${options.name}\`.`,
    });
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  } finally {
    ready.destroy();
    child.unref();
  }
}

async function logTail(file: string): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 2000);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      const last = buf.toString('utf8').trim().split('\n').slice(-3).join(' | ');
      return last ? `: ${last}` : '';
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
