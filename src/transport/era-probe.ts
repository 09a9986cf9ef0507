import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log.js';
import { MODERN_VERSION, PROTOCOL_VERSION_META, UNSUPPORTED_PROTOCOL_VERSION } from './mcp-era.js';
import type { Message } from './bridge-common.js';

/** What the first child speaks, learnt from the `server/discover` probe. */
export type ChildEra = { modern: false } | { modern: true; versions: string[] };

export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

/**
 * The stdio backward-compatibility probe of the 2026-07-28 revision (docs/workloads.md#protocol-eras):
 * `server/discover` with the modern `_meta` first; a DiscoverResult or a modern error means the
 * server speaks 2026-07-28, any other answer (or none in time) that it is a 2025-era server. A
 * dual-era SDK server does not pin its connection on the probe, so the first real request still
 * decides the child's era. Only 2026-07-28 requests wait for the answer; a late answer still counts.
 */
export class EraProbe {
  /** What the server speaks, once its answer came (it may come late). */
  era: ChildEra | undefined;
  /** Resolves once the probe answered or its time ran out. */
  readonly known: Promise<void>;
  private resolve!: () => void;
  private id: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { send: (line: string) => void; log: Logger; timeoutMs?: number }) {
    this.known = new Promise((resolve) => (this.resolve = resolve));
  }

  get childEra(): 'modern' | 'legacy' | undefined {
    return this.era === undefined ? undefined : this.era.modern ? 'modern' : 'legacy';
  }

  /** Sends the probe to a (re)started child, unless the era is known or a probe is out. */
  start(): void {
    if (this.era !== undefined || this.id !== undefined) return;
    this.id = `thv-probe-${randomUUID()}`;
    this.timer = setTimeout(() => {
      this.options.log.warn('the MCP server did not answer server/discover in time; serving it as a 2025-era server until it does');
      this.resolve();
    }, this.options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    this.timer.unref?.();
    this.options.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: this.id,
        method: 'server/discover',
        params: { _meta: { [PROTOCOL_VERSION_META]: MODERN_VERSION, 'io.modelcontextprotocol/clientInfo': { name: 'thv', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    );
  }

  /** True when `msg` is the answer to the probe (then it is handled here). */
  answers(msg: Message): boolean {
    if (this.id === undefined || msg.id !== this.id || msg.method !== undefined) return false;
    clearTimeout(this.timer);
    this.id = undefined;
    const result = msg.result as { supportedVersions?: unknown } | undefined;
    const error = msg.error as { code?: number; data?: { supported?: unknown } } | undefined;
    const strings = (list: unknown[]) => list.filter((v): v is string => typeof v === 'string');
    if (result && Array.isArray(result.supportedVersions)) this.era = { modern: true, versions: strings(result.supportedVersions) };
    else if (error?.code === UNSUPPORTED_PROTOCOL_VERSION && Array.isArray(error.data?.supported)) this.era = { modern: true, versions: strings(error.data.supported) };
    else this.era = { modern: false };
    this.options.log.info({ era: this.childEra, ...(this.era.modern ? { versions: this.era.versions } : {}) }, 'probed the MCP server for its protocol era');
    this.resolve();
    return true;
  }

  /** The child is gone before it answered: probed again when it is back. */
  childExited(): void {
    if (this.id === undefined || this.era !== undefined) return;
    clearTimeout(this.timer);
    this.id = undefined;
  }

  close(): void {
    clearTimeout(this.timer);
    this.resolve();
  }
}
