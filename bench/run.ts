// `npm run bench`: every figure is a ratio against a reference measured in the same run (SPEC §10).
import { benchRegistry } from './registry.js';

const only = process.argv[2];
const suites: Record<string, () => Promise<void>> = {
  registry: () => benchRegistry(),
};
try {
  const workloads = await import('./workloads.mjs' as string).catch(() => undefined);
  if (workloads?.benchWorkloads) suites.workloads = () => workloads.benchWorkloads();
} catch {
  // the workloads suite is optional while it is being built
}
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  process.stdout.write(`# ${name}\n`);
  await run();
}
