// `npm run bench`: every figure is a ratio against a reference measured in the same run (docs/architecture.md#start-up).
import { benchList } from './list.js';
import { benchRegistry } from './registry.js';

const only = process.argv[2];
const suites: Record<string, () => Promise<void>> = {
  registry: () => benchRegistry(),
  list: () => benchList(),
};
suites.workloads = async () => {
  const { benchWorkloads } = (await import('./workloads.mjs' as string)) as { benchWorkloads: () => Promise<void> };
  await benchWorkloads();
};
suites.isolation = async () => {
  const { benchIsolation } = (await import('./isolation.mjs' as string)) as { benchIsolation: () => Promise<void> };
  await benchIsolation();
};
suites.container = async () => {
  const { benchContainer } = await import('./container.js');
  await benchContainer();
};
suites.leak = async () => {
  const { benchLeak } = (await import('./leak.mjs' as string)) as { benchLeak: () => Promise<void> };
  await benchLeak();
};
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  process.stdout.write(`# ${name}\n`);
  await run();
}
