import { ThvError } from '../core/errors.js';
import { ProcessRuntime } from './process.js';
import type { Runtime, RuntimeKind } from './types.js';

export type { LaunchSpec, Runtime, RuntimeKind, ServerInstance } from './types.js';
export { RUNTIME_KINDS } from './types.js';

/** Builds a runtime on first use; the sandbox and container runtimes plug in here. */
export type RuntimeFactory = () => Runtime | Promise<Runtime>;

const FACTORIES: Partial<Record<RuntimeKind, RuntimeFactory>> = {
  none: () => new ProcessRuntime(),
};

/** RuntimeKind → Runtime, each constructed lazily and once per registry. */
export class RuntimeRegistry {
  private readonly built = new Map<RuntimeKind, Promise<Runtime>>();

  constructor(private readonly factories: Partial<Record<RuntimeKind, RuntimeFactory>> = FACTORIES) {}

  get(kind: RuntimeKind): Promise<Runtime> {
    let runtime = this.built.get(kind);
    if (!runtime) {
      const factory = this.factories[kind];
      if (!factory) {
        return Promise.reject(new ThvError('runtime_unavailable', `the ${kind} runtime is not available in this build`, { hint: 'Run it with --runtime none.' }));
      }
      runtime = Promise.resolve().then(factory);
      this.built.set(kind, runtime);
    }
    return runtime;
  }
}

/** The registry of this process; the composition root hands it to whoever launches servers. */
let shared: RuntimeRegistry | undefined;
export function defaultRuntimes(): RuntimeRegistry {
  return (shared ??= new RuntimeRegistry());
}
