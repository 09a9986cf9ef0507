import type { CliContext } from '../context.js';
import type { RegistryService } from '../../registry/service.js';
import type { StaleMarker } from '../../registry/types.js';
import { formatAge } from '../output.js';

/**
 * The registry service as the CLI uses it (built by the context's composition root): a progress
 * line on a TTY while pages are fetched (call `done()` to clear it), the OAuth URL on stderr,
 * browser flows only for a person at a terminal.
 */
export async function cliRegistryService(ctx: CliContext): Promise<{ registry: RegistryService; done: () => void }> {
  return { registry: await ctx.app.registry(), done: () => ctx.clearProgress() };
}

/** docs/registry.md#caching-what-a-failing-registry-looks-like: stale data is never shown silently. */
export function warnIfStale(ctx: CliContext, source: string, stale: StaleMarker | undefined): void {
  if (!stale) return;
  const age = formatAge(Date.now() - stale.fetchedAt);
  ctx.err(`Warning: registry ${source} is unavailable (${stale.error}); showing cached data from ${age} ago.\n`);
}
