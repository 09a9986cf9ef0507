import type { ServerSummary } from './summary.js';
import type { Catalog } from './types.js';

/** How long a copy is fresh (no fetch), kept at all, and how large it may be (docs/registry.md). */
export const FRESH_MS = 60 * 60 * 1000;
export const DISK_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DISK_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The layout of a registry's disk cache (docs/registry.md#caching-what-a-failing-registry-looks-like,
 * docs/architecture.md#start-up), read by the cache and by the CLI's start-up fast path:
 *
 *     {"format":3,"source":…,"table":{"version":V,"bytes":T},"summaries":S}\n
 *     <T bytes: the catalog table as `thv registry list` prints it to a pipe>
 *     <S bytes: the summaries, one JSON array>\n
 *     <the full catalog, one JSON document>
 *
 * A warm `thv registry list` reads the first line and the table (or the summaries, for a terminal's
 * width) and never parses the catalog. Lengths are in bytes, so a part is read without decoding
 * what comes before it.
 */
export interface DiskHeader {
  format: 3;
  source: string;
  /** The pre-rendered table, when the writer had a renderer; `version` is the renderer's. */
  table?: { version: number; bytes: number };
  summaries: number;
}

/** A table to keep with the summaries: its text and the version of the code that rendered it. */
export interface RenderedTable {
  version: number;
  text: string;
}

export function encodeDiskCache(source: string, summaries: ServerSummary[], catalog: Catalog, table?: RenderedTable): Buffer {
  const summaryBytes = Buffer.from(JSON.stringify(summaries));
  const tableBytes = table ? Buffer.from(table.text) : undefined;
  const header: DiskHeader = {
    format: 3,
    source,
    ...(table && tableBytes ? { table: { version: table.version, bytes: tableBytes.length } } : {}),
    summaries: summaryBytes.length,
  };
  // Compact JSON: the cache is read on every warm start, and its size is parse time.
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...(tableBytes ? [tableBytes] : []), summaryBytes, Buffer.from(`\n${JSON.stringify(catalog)}`)]);
}

/** Where each part starts and ends in a cache file, or undefined when the header is not format 3. */
export interface DiskLayout {
  header: DiskHeader;
  table?: { start: number; end: number; version: number };
  summaries: { start: number; end: number };
  catalogStart: number;
}

/** `head` is the file's first bytes (at least its first line); `size` the file's size. */
export function diskLayout(head: Buffer, size: number): DiskLayout | undefined {
  const end = head.indexOf(10);
  if (end === -1) return undefined;
  let header: DiskHeader;
  try {
    header = JSON.parse(head.toString('utf8', 0, end)) as DiskHeader;
  } catch {
    return undefined;
  }
  if (header?.format !== 3 || typeof header.source !== 'string' || !Number.isSafeInteger(header.summaries) || header.summaries < 2) return undefined;
  const tableBytes = header.table?.bytes ?? 0;
  if (header.table && !(Number.isSafeInteger(tableBytes) && tableBytes >= 0 && Number.isSafeInteger(header.table.version))) return undefined;
  const tableStart = end + 1;
  const summariesStart = tableStart + tableBytes;
  const summariesEnd = summariesStart + header.summaries;
  if (summariesEnd + 1 > size) return undefined;
  return {
    header,
    ...(header.table ? { table: { start: tableStart, end: summariesStart, version: header.table.version } } : {}),
    summaries: { start: summariesStart, end: summariesEnd },
    catalogStart: summariesEnd + 1,
  };
}
