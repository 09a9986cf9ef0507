import { systemClock, type Clock } from '../../../src/core/clock.js';
import { createLogger } from '../../../src/core/log.js';
import { createOAuthCredentials, type OAuthCredentials, type OAuthSettings } from '../../../src/auth/remote/index.js';
import { parseRemoteAuthState, type RemoteAuthState } from '../../../src/auth/remote/state.js';
import { startTestIdp, type TestIdp, type TestIdpOptions } from '../../fixtures/idp.js';
import { startTokenFaultProxy, type TokenFaultProxy } from '../../fixtures/token-fault-proxy.js';
import { startTokenCheckingMcp, type TokenCheckingMcp, type TokenCheckingMcpOptions } from '../../fixtures/token-checking-mcp.js';
import { followLogin } from '../../fixtures/test-browser.mjs';

/**
 * One remote MCP server protected by one or more real authorization servers (the in-process
 * oidc-provider behind a fault proxy that presents itself as the issuer), and the OAuth credentials
 * of a workload for it, with everything they store, open, log and report kept for assertions.
 */
export interface AuthServer {
  idp: TestIdp;
  as: TokenFaultProxy;
}

export class RemoteAuthHarness {
  mcp!: TokenCheckingMcp;
  servers: AuthServer[] = [];
  stored: string | undefined;
  opened: string[] = [];
  logs: string[] = [];
  statuses: Array<[string, string]> = [];
  private readonly open: OAuthCredentials[] = [];

  /** The first authorization server. */
  get idp(): TestIdp {
    return this.servers[0]!.idp;
  }

  get as(): TokenFaultProxy {
    return this.servers[0]!.as;
  }

  get state(): RemoteAuthState {
    return parseRemoteAuthState(this.stored)!;
  }

  async start(options: { idp?: TestIdpOptions; mcp?: Partial<TokenCheckingMcpOptions>; resourceScope?: string } = {}): Promise<this> {
    this.mcp = await startTokenCheckingMcp({
      isValid: async (t) => Boolean(await this.findToken(t)),
      scopesOf: async (t) => (await this.findToken(t))?.scope?.split(' ') ?? [],
      scopesSupported: ['mcp:tools'],
      ...options.mcp,
    });
    await this.addAuthServer({ registration: true, ...options.idp }, options.resourceScope);
    this.mcp.authorizationServer = this.as.issuer;
    return this;
  }

  /** Another authorization server for the same MCP server (it is not used until the MCP server names it). */
  async addAuthServer(options: TestIdpOptions = { registration: true }, resourceScope = 'mcp:tools'): Promise<AuthServer> {
    const idp = await startTestIdp({ accessTokenTtl: 60, resources: { [this.mcp.url]: { scope: resourceScope } }, ...options });
    const as = await startTokenFaultProxy(idp.issuer);
    const server = { idp, as };
    this.servers.push(server);
    return server;
  }

  async findToken(token: string): Promise<{ clientId: string; scope?: string } | undefined> {
    for (const { idp } of this.servers) {
      const found = await idp.findAccessToken(token);
      if (found) return found;
    }
    return undefined;
  }

  /** Credentials whose `start()` has not been called; the opener completes every login like a user would. */
  credentials(callbackPort: number, extra: { skipBrowser?: boolean; clock?: Clock; settings?: OAuthSettings; fetch?: typeof fetch } = {}): OAuthCredentials {
    const c = createOAuthCredentials({
      workload: 'remote1',
      serverUrl: this.mcp.url,
      settings: { callbackPort, timeoutMs: 20_000, ...extra.settings },
      stored: this.stored,
      save: async (raw) => void (this.stored = raw),
      ...(extra.skipBrowser
        ? {}
        : {
            opener: async (url: string) => {
              this.opened.push(url);
              void followLogin(url).catch(() => undefined);
            },
          }),
      onStatus: (status, context) => void this.statuses.push([status, context]),
      clock: extra.clock ?? systemClock,
      log: createLogger({ level: 'debug', format: 'json', write: (l) => void this.logs.push(l) }),
      ...(extra.fetch ? { fetch: extra.fetch } : {}),
    });
    this.open.push(c);
    return c;
  }

  async started(callbackPort: number, extra: Parameters<RemoteAuthHarness['credentials']>[1] = {}): Promise<OAuthCredentials> {
    const c = this.credentials(callbackPort, extra);
    c.start();
    await c.ready;
    return c;
  }

  /** A JSON-RPC call straight to the MCP server with the credentials' headers: its HTTP status and `WWW-Authenticate`. */
  async call(c: OAuthCredentials, method = 'tools/list', params?: Record<string, unknown>): Promise<{ status: number; challenge: string }> {
    const res = await fetch(this.mcp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await c.headers()) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) }),
    });
    await res.arrayBuffer();
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
  }

  async close(): Promise<void> {
    for (const c of this.open.splice(0)) await c.close();
    await this.mcp?.close();
    for (const { as, idp } of this.servers.splice(0)) {
      await as.close();
      await idp.close();
    }
  }
}
