import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { renderJson } from '../output.js';
import { formatOption } from '../options.js';
import { ThvError, badRequest } from '../../core/errors.js';

/** `thv runtime check` and `thv build` (docs/runtimes.md). */
export function registerRuntimeCommands(program: Command, ctx: CliContext): void {
  const runtime = program.command('runtime').description('Container engines thv can use');
  runtime
    .command('check')
    .description('Find a Docker-compatible container engine and report its version')
    .addOption(formatOption())
    .action(async (opts: { format: string }) => {
      const { probeEngines } = await import('../../runtimes/container/discovery.js');
      const probes = await failedTo('check the container runtime', () => probeEngines(ctx.env));
      const found = probes.find((p) => p.version);
      if (opts.format === 'json') {
        ctx.out(
          renderJson({
            available: Boolean(found),
            ...(found ? { engine: { kind: found.kind, socket: found.path, source: found.source, name: found.version!.name, version: found.version!.version, api_version: found.version!.apiVersion } } : {}),
            candidates: probes.map((p) => ({ kind: p.kind, socket: p.path, source: p.source, ...(p.version ? { version: p.version.version } : { error: p.error }) })),
          }),
        );
      } else {
        for (const p of probes) ctx.out(`${p === found ? '*' : ' '} ${p.source}: ${p.path} — ${p.version ? `${p.version.name} ${p.version.version} (API ${p.version.apiVersion})` : p.error}\n`);
        if (found) ctx.out(`Container runtime available: ${found.version!.name} ${found.version!.version} at ${found.path}\n`);
      }
      if (!found) {
        const { ENGINE_HINT } = await import('../../runtimes/container/discovery.js');
        throw new ThvError('runtime_unavailable', 'no container engine found', { hint: ENGINE_HINT });
      }
    });

  program
    .command('build')
    .description('Build a container image for npx://pkg[@ver], uvx://pkg[@ver] or go://module[@ver]')
    .argument('<ref>', 'npx://…, uvx://… or go://…')
    .option('-t, --tag <tag>', 'image tag (default: toolhivelocal/<scheme>-<pkg>:<timestamp>)')
    .option('--runtime-image <image>', 'builder base image (default: the config value, else node:24-alpine / python:3.14-slim / golang:1.26-alpine)')
    .option('--dry-run', 'print the Dockerfile instead of building')
    .action(async (ref: string, opts: { tag?: string; runtimeImage?: string; dryRun?: boolean }) => {
      const { parseSchemeRef, localImageTag, renderDockerfile } = await import('../../runtimes/container/templates.js');
      const scheme = parseSchemeRef(ref);
      if (!scheme) throw badRequest(`"${ref}" is not an npx://, uvx:// or go:// reference`, 'Images are pulled, not built: run them with `thv run <image>`.');
      const builderImage = opts.runtimeImage ?? (await configuredBuilderImage(ctx, scheme.scheme));
      const dockerfile = renderDockerfile(scheme, builderImage ? { builderImage } : {});
      if (opts.dryRun) {
        ctx.out(dockerfile);
        return;
      }
      const tag = opts.tag ?? localImageTag(scheme, new Date());
      const [{ findEngine }, { buildImage }] = await Promise.all([import('../../runtimes/container/discovery.js'), import('../../runtimes/container/images.js')]);
      await failedTo('build the image', async () => {
        const { client } = await findEngine(ctx.env);
        await buildImage(client, { tag, dockerfile, labels: { toolhive: 'true' } }, (line) => ctx.err(`${line}\n`));
      });
      ctx.out(`Built image ${tag}\n`);
    });
}

/** `build_images.<scheme>` from config.yaml, when set. */
async function configuredBuilderImage(ctx: CliContext, scheme: string): Promise<string | undefined> {
  const { ConfigStore } = await import('../../config/store.js');
  const config = (await new ConfigStore(ctx.paths.configFile).load()) as { build_images?: Record<string, unknown> };
  const value = config.build_images?.[scheme];
  return typeof value === 'string' && value ? value : undefined;
}
