import { envText } from '../core/env.js';
import { defaultSupervisorEntry, launchSupervisor } from './launcher.js';
import { startupGraceMs } from './startup-window.js';
import type { ManagerContext } from './manager-context.js';
import { LIVE_STATUSES, workloadUrl } from './types.js';

export interface StartResult {
  url: string;
  port: number;
  alreadyRunning: boolean;
}

/**
 * Starts a stopped workload with a detached supervisor (docs/workloads.md); a running one is left as
 * it is. The caller holds the run config's lock, so two starts never launch two supervisors.
 */
export async function startLocked(ctx: ManagerContext, name: string): Promise<StartResult> {
  const { deps, statuses } = ctx;
  const config = await ctx.runConfigs.get(name);
  const current = await ctx.reconciler.status(name);
  if (current && LIVE_STATUSES.has(current.status) && current.status !== 'stopping') {
    return { url: workloadUrl(config), port: config.port ?? 0, alreadyRunning: true };
  }
  await ctx.reconciler.stopOrphanedServer(name);
  const secrets = await ctx.credentials.resolve(config);
  // A package for the sandbox is installed here, where the user sees the progress, rather than in
  // the supervisor within its start-up timeout; the supervisor then finds it installed.
  if (config.runtime === 'sandbox' && config.command) {
    const sandbox = await ctx.runtimes().get('sandbox');
    if ('install' in sandbox && typeof sandbox.install === 'function') {
      await (sandbox as { install(command: string, args: string[], onProgress: (line: string) => void): Promise<unknown> }).install(config.command, config.args, deps.onProgress ?? (() => undefined));
    }
  }
  await statuses.set(name, 'starting', '', { processId: 0 });
  try {
    const supervisorEnv = deps.supervisorEnv ?? deps.env;
    // A remote OAuth workload stores refreshed tokens, so its supervisor needs the store's
    // password: on stdin, never in its environment (docs/isolation.md, "Secrets").
    const password = envText(supervisorEnv, 'TOOLHIVE_SECRETS_PASSWORD');
    if (config.remote_auth?.enabled && password) secrets.supervisorEnv = { TOOLHIVE_SECRETS_PASSWORD: password };
    const started = await launchSupervisor({
      name,
      entry: deps.supervisorEntry ?? defaultSupervisorEntry(),
      env: supervisorEnv,
      // The supervisor reports only after a stdio server's start-up window; the wait must cover it.
      timeoutMs: 60_000 + startupGraceMs(supervisorEnv),
      logFile: ctx.logFile(name),
      cwd: config.cwd ?? process.cwd(),
      secrets,
    });
    return { url: started.url, port: started.port, alreadyRunning: false };
  } catch (err) {
    const status = await statuses.read(name);
    if (status && LIVE_STATUSES.has(status.status)) {
      await statuses.set(name, 'error', err instanceof Error ? err.message : String(err));
    }
    throw err;
  }
}
