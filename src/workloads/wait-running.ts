import type { Clock } from '../core/clock.js';
import { ThvError } from '../core/errors.js';
import { LOGIN_REQUIRED_CONTEXT, type RunConfig, type WorkloadInfo } from './types.js';

/**
 * Polls a started workload until it runs: `starting`, then for a remote OAuth login `unauthenticated`
 * with the authorization URL (passed to `onLoginRequired` once per URL) until the user logs in.
 * Bounded by the login timeout; every wait goes through the clock.
 */
export async function waitUntilRunning(
  config: RunConfig,
  deps: { env: NodeJS.ProcessEnv; clock: Clock; status(): Promise<WorkloadInfo> },
  options: { onLoginRequired(context: string): void; timeoutMs?: number },
): Promise<WorkloadInfo> {
  const { name } = config;
  let timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined && !config.remote_auth?.enabled) timeoutMs = 60_000;
  if (timeoutMs === undefined) {
    const { loginTimeoutMs } = await import('./remote-oauth.js');
    // The supervisor's own flow timeout fires first and reports why; the margin covers discovery.
    timeoutMs = loginTimeoutMs(config, deps.env) + 30_000;
  }
  const deadline = deps.clock.now() + timeoutMs;
  let shown = '';
  for (;;) {
    const info = await deps.status();
    if (info.status === 'running' || info.status === 'auth_retrying' || info.status === 'unhealthy') return info;
    const loginWaits = info.status === 'unauthenticated' && info.status_context.startsWith(LOGIN_REQUIRED_CONTEXT);
    if (loginWaits && info.status_context !== shown) {
      shown = info.status_context;
      options.onLoginRequired(shown);
    }
    if (info.status === 'unauthenticated' && !loginWaits) {
      throw new ThvError('auth_failed', `workload "${name}" could not authenticate to the remote server: ${info.status_context}`, {
        hint: `Run \`thv restart ${name}\` to log in again.`,
      });
    }
    if (!loginWaits && info.status !== 'starting') {
      throw new ThvError('workload_failed', `workload "${name}" is ${info.status}${info.status_context ? `: ${info.status_context}` : ''}`, {
        hint: `See \`thv logs ${name}\`.`,
      });
    }
    if (deps.clock.now() > deadline) {
      throw new ThvError('auth_failed', `workload "${name}" did not finish its OAuth login within ${Math.round(timeoutMs / 1000)} s`, {
        hint: `It keeps waiting; \`thv status ${name}\` shows the login URL, or stop it with \`thv stop ${name}\`.`,
      });
    }
    await deps.clock.sleep(100);
  }
}
