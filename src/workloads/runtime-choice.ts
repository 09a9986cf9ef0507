import { ThvError, badRequest } from '../core/errors.js';
import type { RuntimeKind } from '../runtimes/types.js';
import type { ResolvedSource } from './sources.js';

/**
 * Which runtime starts a local server (docs/runtimes.md, "Selection"): what the user asked for;
 * otherwise an image (an image reference, go://, an image-only registry entry) → container; an
 * npm/PyPI registry entry → container when an engine answers (ToolHive's behaviour); otherwise
 * undefined, and isolation.ts's default applies (the sandbox).
 */
export async function pickRuntime(requested: RuntimeKind | undefined, resolved: ResolvedSource, engineAvailable: () => Promise<boolean>): Promise<RuntimeKind | undefined> {
  const imageOnly = resolved.image !== undefined;
  if (requested) {
    if (imageOnly && requested !== 'container') {
      throw badRequest(`${resolved.source.ref} is a container image and runs only with --runtime container`, 'Leave --runtime out, or run an npm/PyPI package instead.');
    }
    if (requested === 'container' && !imageOnly && !resolved.buildRef) {
      throw badRequest('a host command cannot run in the container runtime', 'Run an image, a registry entry or npx://, uvx://, go:// (thv builds an image), or use --runtime sandbox|none.');
    }
    return requested;
  }
  if (imageOnly) return 'container';
  if (resolved.source.kind === 'registry' && resolved.buildRef && (await engineAvailable())) return 'container';
  return undefined;
}

/** The error for an image when no engine answers, naming the image. */
export function noEngineForImage(image: string, cause: ThvError): ThvError {
  return new ThvError('runtime_unavailable', `container runtime not available: ${image} needs a container engine, and ${cause.message}`, { cause, ...(cause.hint ? { hint: cause.hint } : {}) });
}
