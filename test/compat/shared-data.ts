import { join } from 'node:path';

/**
 * The team's reference data (ToolHive's registry files, converter goldens, the official registry's
 * entries), read only by this compatibility run: `npm run test:compat` passes the folder it found
 * in THV_COMPAT_DATA; run directly, the folder beside the checkout is used.
 */
export const SHARED_DATA = process.env.THV_COMPAT_DATA ?? join(import.meta.dirname, '../../../shared/data');
export const SHARED_REGISTRY = join(SHARED_DATA, 'registry');
