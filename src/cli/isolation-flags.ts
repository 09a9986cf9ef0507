import { badRequest } from '../core/errors.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../runtimes/types.js';

/**
 * `--runtime none|sandbox|container` and its alias `--isolation none` (docs/isolation.md). Shared by
 * every runtime; the flags may not contradict each other.
 */
export function parseRuntimeFlags(opts: { runtime?: string; isolation?: string }): RuntimeKind | undefined {
  const check = (flag: string, value: string): RuntimeKind => {
    if (!(RUNTIME_KINDS as readonly string[]).includes(value)) throw badRequest(`${flag} must be one of ${RUNTIME_KINDS.join(', ')}, not "${value}"`);
    return value as RuntimeKind;
  };
  const runtime = opts.runtime !== undefined ? check('--runtime', opts.runtime) : undefined;
  const isolation = opts.isolation !== undefined ? check('--isolation', opts.isolation) : undefined;
  if (runtime && isolation && runtime !== isolation) throw badRequest(`--runtime ${runtime} and --isolation ${isolation} contradict each other`, 'Give one of them.');
  return runtime ?? isolation;
}
