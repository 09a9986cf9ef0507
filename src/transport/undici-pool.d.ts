// undici's connection pool on its own (docs/workloads.md#the-remote-proxy): the package's index also
// loads fetch, WebSocket and the cache, which doubles what starting a proxy costs.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
