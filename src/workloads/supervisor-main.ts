// Entry of the detached supervisor (dist/supervisor.js): `node supervisor.js <workload name>`.
// stdin carries the resolved secrets as one JSON document; fd 3, when open, receives one JSON line
// saying whether the workload started, then closes. stdout and stderr are the workload's log file.
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths } from '../core/paths.js';
import { createLogger, levelFromEnv, setLogger } from '../core/log.js';
import { ThvError } from '../core/errors.js';
import { StatusStore } from './status-store.js';
import { CappedLogWriter, routeStdioThroughLog } from './log-rotation.js';
import { startSupervisor, type SupervisorSecrets } from './supervisor.js';
import { isSecretEnvName } from '../isolation/secret-env.js';
import { startHeapSettler } from '../core/heap-settle.js';

export interface ReadyMessage {
  ok: boolean;
  url?: string;
  port?: number;
  code?: string;
  message?: string;
  hint?: string;
}

const READY_FD = 3;

function report(message: ReadyMessage): void {
  try {
    fstatSync(READY_FD);
  } catch {
    return;
  }
  try {
    writeSync(READY_FD, `${JSON.stringify(message)}\n`);
    closeSync(READY_FD);
  } catch {
    // The starter went away; the status file still tells the story.
  }
}

async function readSecrets(): Promise<SupervisorSecrets> {
  if (process.stdin.isTTY) return { env: {}, values: {} };
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  if (!text.trim()) return { env: {}, values: {} };
  const parsed = JSON.parse(text) as Partial<SupervisorSecrets>;
  return { env: parsed.env ?? {}, values: parsed.values ?? {}, supervisorEnv: parsed.supervisorEnv ?? {} };
}

const name = process.argv[2];
if (!name) {
  process.stderr.write('usage: supervisor.js <workload name>\n');
  process.exit(2);
}
const paths = resolvePaths(process.env);
// stdout/stderr are the workload log (opened by the launcher): every write to them, the server's
// piped stderr included, goes through one writer that rotates before the cap (docs/workloads.md#logs).
if (fstatSync(2).isFile()) routeStdioThroughLog(new CappedLogWriter(join(paths.logsDir, `${name}.log`), 2));
const level = levelFromEnv(process.env);
const log = createLogger({
  level: level === 'warn' ? 'info' : level,
  write: (line) => void process.stderr.write(`${new Date().toISOString()} ${line}`),
});
setLogger(log);
// The launcher already leaves credentials out of this environment; a supervisor started some other
// way drops them here too (docs/isolation.md, "Secrets").
for (const key of Object.keys(process.env)) if (isSecretEnvName(key)) delete process.env[key];

process.on('uncaughtException', (err) => {
  log.fatal({ err: err.message, stack: err.stack }, 'supervisor crashed');
  void new StatusStore(paths)
    .set(name, 'error', `supervisor crashed: ${err.message}`, { onlyIf: (s) => s?.process_id === process.pid })
    .finally(() => process.exit(1));
});
process.on('SIGHUP', () => undefined);

try {
  const secrets = await readSecrets();
  // What the supervisor needs of the credentials (handed over on stdin) lives in this object only.
  const env = { ...process.env, ...secrets.supervisorEnv };
  const supervisor = await startSupervisor(name, { paths, env, log, secrets });
  // A burst of requests must not leave the supervisor big for good (docs/workloads.md#limits).
  startHeapSettler();
  log.info({ workload: name, url: supervisor.url, pid: process.pid }, 'workload running');
  report({ ok: true, url: supervisor.url, port: supervisor.port });
  const onSignal = () => void supervisor.stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await supervisor.done;
  process.exit(0);
} catch (err) {
  const e = err instanceof ThvError ? err : undefined;
  log.error({ err: (err as Error).message }, 'workload failed to start');
  report({ ok: false, code: e?.code ?? 'workload_failed', message: (err as Error).message, ...(e?.hint ? { hint: e.hint } : {}) });
  process.exit(1);
}
