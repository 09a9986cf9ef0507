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
 * runtime, and socat is not installed everywhere.
 */
export const INIT_SCRIPT = String.raw`
import net from 'node:net';
import { spawn } from 'node:child_process';
const [port, socketPath, command, ...args] = process.argv.slice(2);
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
server.listen(Number(port), '127.0.0.1', () => {
  const env = { ...process.env };
  if (env.THV_SANDBOX_NODE_OPTIONS !== undefined) {
    env.NODE_OPTIONS = env.THV_SANDBOX_NODE_OPTIONS;
    delete env.THV_SANDBOX_NODE_OPTIONS;
  }
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
