import type { ServerSummary } from '../registry/summary.js';
import { renderTable } from './output.js';

/**
 * Bumped whenever renderServerTable's output changes: a registry cache holds the table rendered by
 * the thv that wrote it, and the start-up fast path (docs/architecture.md#start-up) prints it only
 * when it was rendered by this version of the code.
 */
export const SERVER_TABLE_VERSION = 1;

/** Code-point order: names are reverse-DNS ASCII, and localeCompare costs ~15 ms on 10,000 names. */
export function byName<T extends { name: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function renderServerTable(servers: ServerSummary[], width: number): string {
  // Only the visible part of a description is cleaned of line breaks and runs of spaces.
  const rows = servers.map((s) => [s.name, s.kind, s.transport ?? '', s.tier ?? '', s.stars !== undefined ? String(s.stars) : '', s.description.slice(0, width * 2).replace(/\s+/g, ' ')]);
  return renderTable(['NAME', 'KIND', 'TRANSPORT', 'TIER', 'STARS', 'DESCRIPTION'], rows, width);
}
