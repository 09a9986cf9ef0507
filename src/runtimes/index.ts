import { ThvError } from '../core/errors.js';
import { ProcessRuntime } from './process.js';
import type { Runtime, RuntimeKind } from './types.js';
import type { Paths } from '../core/paths.js';
import type { EgressLogger } from '../isolation/egress-proxy.js';

export type { LaunchSpec, Runtime, RuntimeKind, ServerInstance } from './types.js';
export { RUNTIME_KINDS } from './types.js';

/** Builds a runtime on first use; the sandbox and container runtimes plug in here. */
export type RuntimeFactory = () => Runtime | Promise<Runtime>;

const FACTORIES: Partial<Record<RuntimeKind, RuntimeFactory>> = {
  none: () => new ProcessRuntime(),
  container: async () => {
    const [{ ContainerRuntime }, { log }, { containerLimits }] = await Promise.all([import('./container.js'), import('../core/log.js'), import('./container/limits.js')]);
    return new ContainerRuntime({ env: process.env, log: log(), limits: containerLimits(process.env) });
  },
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

/** What the runtimes that confine a server need to know about this thv process. */
export interface RuntimeContext {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  log: EgressLogger;
  /** thv's own endpoints, never reachable from a workload. */
  isThvEndpoint?: (address: string, port: number) => boolean;
}

/** The registry with every runtime this host can offer: the host process, the bubblewrap sandbox and containers. */
export function hostRuntimes(ctx: RuntimeContext): RuntimeRegistry {
  return new RuntimeRegistry({
    ...FACTORIES,
    sandbox: async () => (await import('./sandbox.js')).createSandboxRuntime(ctx),
    container: async () => {
      const [{ ContainerRuntime }, { containerLimits }] = await Promise.all([import('./container.js'), import('./container/limits.js')]);
      return new ContainerRuntime({ env: ctx.env, log: ctx.log, limits: containerLimits(ctx.env), ...(ctx.isThvEndpoint ? { isThvEndpoint: ctx.isThvEndpoint } : {}) });
    },
  });
}
