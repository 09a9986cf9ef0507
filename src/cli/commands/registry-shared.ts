import { isInteractive, type CliContext } from '../context.js';
import type { RegistryService } from '../../registry/service.js';
import type { StaleMarker } from '../../registry/types.js';
import { formatAge } from '../output.js';

/**
 * The registry service as the CLI uses it: a progress line on a TTY while pages are fetched (call
 * `done()` to clear it), the OAuth URL on stderr, browser flows only for a person at a terminal.
 */
export async function cliRegistryService(ctx: CliContext): Promise<{ registry: RegistryService; done: () => void }> {
  const { RegistryService } = await import('../../registry/service.js');
  let progressShown = false;
  const registry = new RegistryService({
    paths: ctx.paths,
    env: ctx.env,
    interactive: isInteractive(ctx),
    err: ctx.err,
    ...(ctx.stderrIsTTY
      ? {
          onProgress: (n: number) => {
            progressShown = true;
            ctx.err(`\rFetching registry… ${n} servers`);
          },
        }
      : {}),
  });
  const done = () => {
    if (progressShown) ctx.err('\r\x1b[K');
    progressShown = false;
  };
  return { registry, done };
}

/** docs/registry.md#caching-what-a-failing-registry-looks-like: stale data is never shown silently. */
export function warnIfStale(ctx: CliContext, source: string, stale: StaleMarker | undefined): void {
  if (!stale) return;
  const age = formatAge(Date.now() - stale.fetchedAt);
  ctx.err(`Warning: registry ${source} is unavailable (${stale.error}); showing cached data from ${age} ago.\n`);
}
