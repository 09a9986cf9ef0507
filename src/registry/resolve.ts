import { ThvError } from '../core/errors.js';
import { allServers, type Catalog, type CatalogServer } from './types.js';

/** The part after the last `/`: `io.github.stacklok/fetch` → `fetch`. */
export function shortName(fullName: string): string {
  const i = fullName.lastIndexOf('/');
  return i === -1 ? fullName : fullName.slice(i + 1);
}

/**
 * Finds a server by its full reverse-DNS name or by an unambiguous short name. An ambiguous short
 * name is an error that lists the candidates.
 */
export function findServer(catalog: Catalog, name: string): CatalogServer {
  const servers = allServers(catalog);
  const exact = servers.find((s) => s.name === name);
  if (exact) return exact;
  const wanted = name.toLowerCase();
  const matches = servers.filter((s) => shortName(s.name).toLowerCase() === wanted || s.name.toLowerCase() === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new ThvError('ambiguous_name', `the name \`${name}\` matches ${matches.length} servers: ${matches.map((s) => s.name).join(', ')}`, {
      hint: 'Use the full name.',
    });
  }
  throw new ThvError('not_found', `server \`${name}\` was not found in the registry`, {
    hint: 'Run `thv search <query>` to find servers.',
  });
}

/** Case-insensitive match on name, title, description and tags; name matches rank first. */
export function searchServers(catalog: Catalog, query: string): CatalogServer[] {
  const q = query.trim().toLowerCase();
  if (!q) return allServers(catalog);
  const scored: Array<{ server: CatalogServer; score: number }> = [];
  for (const server of allServers(catalog)) {
    let score = 0;
    if (shortName(server.name).toLowerCase() === q) score += 8;
    if (server.name.toLowerCase().includes(q)) score += 4;
    if (server.tags?.some((t) => t.toLowerCase() === q)) score += 3;
    else if (server.tags?.some((t) => t.toLowerCase().includes(q))) score += 2;
    if (server.title?.toLowerCase().includes(q) || server.description?.toLowerCase().includes(q)) score += 1;
    if (score > 0) scored.push({ server, score });
  }
  return scored.sort((a, b) => b.score - a.score || a.server.name.localeCompare(b.server.name)).map((s) => s.server);
}
