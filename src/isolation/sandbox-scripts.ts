/**
 * The two small scripts the sandbox runs inside (docs/isolation.md, "Network"). They are written to
 * the workload's run folder at start and mounted read-only at /run/thv.
 */

/** Where things appear inside the sandbox. */
export const SANDBOX_RUN_DIR = '/run/thv';
export const SANDBOX_UNDICI_DIR = '/run/thv-undici';
export const SANDBOX_PROXY_PORT = 3128;

/**
 * The sandbox's first process: listens on 127.0.0.1:<port> in the sandbox's own network namespace
 * and pipes each connection to the egress proxy's unix socket (the only way out), then starts the
 * server with stdin/stdout/stderr inherited — stdio passes through untouched — and exits with its
 * status. Node rather than socat: Node is already needed for most servers, ships with thv's own
 * runtime, and socat is not installed everywhere. A Node script (`node server.js`, an npm bin) runs
 * inside this same process instead (mode `node-main`), which saves a second Node start-up.
 */
export const INIT_SCRIPT = String.raw`
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
const [port, socketPath, mode, command, ...args] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.on('error', (err) => {
  process.stderr.write('thv sandbox: cannot listen on 127.0.0.1:' + port + ': ' + err.message + '\n');
  process.exit(126);
});
const nodeOptions = process.env.THV_SANDBOX_NODE_OPTIONS;
delete process.env.THV_SANDBOX_NODE_OPTIONS;
server.listen(Number(port), '127.0.0.1', () => {
  if (mode === 'node-main') {
    // A Node script runs in this very process, as its main module (one Node start instead of two);
    // the listener must not keep it alive once the server is done.
    server.unref();
    const require = createRequire(import.meta.url);
    require('${SANDBOX_RUN_DIR}/preload.cjs');
    if (nodeOptions !== undefined) process.env.NODE_OPTIONS = nodeOptions;
    process.argv = [process.argv[0], command, ...args];
    require('node:module').runMain();
    return;
  }
  const env = { ...process.env };
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const child = spawn(command, args, { stdio: 'inherit', env });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write('thv sandbox: cannot start ' + command + ': ' + err.message + '\n');
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
});
`;

/**
 * Preloaded into every Node process of the sandbox (NODE_OPTIONS=--require): Node 20's fetch
 * (undici) ignores HTTP(S)_PROXY, so it gets a global dispatcher that honours them. http/https
 * clients that read the variables themselves (axios, got, npm) need nothing.
 */
export const PRELOAD_SCRIPT = String.raw`
const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
if (proxy) {
  // Lazily: undici takes ~100 ms to load, and most servers never call fetch(). Node's fetch and
  // undici's own read the dispatcher from this global on first use. ProxyAgent (stable) rather than
  // EnvHttpProxyAgent (experimental, warns): inside the sandbox everything goes through the one
  // egress proxy.
  const key = Symbol.for('undici.globalDispatcher.1');
  let agent;
  let loading = false;
  const placeholder = { dispatch() { throw new Error('thv sandbox: the egress dispatcher is still loading'); } };
  Object.defineProperty(globalThis, key, {
    configurable: true,
    enumerable: false,
    get() {
      // undici asks for a default dispatcher while it loads, and would install a direct one (as a
      // non-configurable property) if it saw none: it sees a placeholder that is never used.
      if (loading) return placeholder;
      if (agent === undefined) {
        loading = true;
        try {
          const { ProxyAgent } = require('${SANDBOX_UNDICI_DIR}');
          agent = new ProxyAgent(proxy);
        } catch (err) {
          process.stderr.write('thv sandbox: fetch() cannot use the egress proxy: ' + err.message + '\n');
          agent = null;
        } finally {
          loading = false;
        }
      }
      return agent ?? undefined;
    },
    set(value) {
      if (!loading) agent = value;
    },
  });
}
`;
