import { THV_BIN, makeTempHome } from '../test/fixtures/cli.js';
import { makeServers, startRegistryServer } from '../test/fixtures/registry-server.js';
import { compare, report, timeProcess } from './harness.js';

const SERVERS = 10_000;

/** docs/architecture.md#start-up: warm `registry list` vs process start, and a cold 10,000-server paginated fetch. */
export async function benchRegistry(runs = 15): Promise<void> {
  const home = await makeTempHome();
  const env = home.env;
  const registry = await startRegistryServer({ servers: makeServers(SERVERS), pageSize: 100 });
  try {
    const thv = (...args: string[]) => timeProcess(process.execPath, [THV_BIN, ...args], env);
    await thv('config', 'set-registry', registry.url, '--allow-private-ip');
    await thv('registry', 'list');

    const warm = await compare(runs, () => timeProcess(process.execPath, ['-e', '0'], env), () => thv('registry', 'list'));
    report('registry list, warm 10,000-server disk cache', {
      'node -e 0 ms': warm.reference,
      'thv ms': warm.subject,
      'ratio': `${warm.ratio.toFixed(2)}x`,
      goal: '<3x',
    });

    // The reference fetches the same 100 pages with bare fetch + JSON.parse in one node process.
    const bareFetch = `let c='';let n=0;do{const r=await fetch('${registry.url}/v0.1/servers?limit=100&version=latest'+(c?'&cursor='+c:''));const b=await r.json();n+=b.servers.length;c=b.metadata.nextCursor}while(c);if(n!==${SERVERS})process.exit(1)`;
    const cold = await compare(
      Math.max(3, Math.floor(runs / 3)),
      () => timeProcess(process.execPath, ['--input-type=module', '-e', bareFetch], env),
      () => thv('registry', 'list', '--refresh'),
    );
    report('registry list --refresh, cold 10,000 servers', {
      'bare fetch ms': cold.reference,
      'thv ms': cold.subject,
      ratio: `${cold.ratio.toFixed(2)}x`,
    });
  } finally {
    await registry.close();
    await home.cleanup();
  }
}
