import { isRemoteServer, type CatalogServer } from './types.js';

/** What a catalog table shows of a server; small enough to read 10,000 of them at start-up. */
export interface ServerSummary {
  name: string;
  kind: 'container' | 'package' | 'remote';
  transport?: string;
  tier?: string;
  stars?: number;
  description: string;
}

export function summarize(server: CatalogServer): ServerSummary {
  const summary: ServerSummary = {
    name: server.name,
    kind: isRemoteServer(server) ? 'remote' : server.image ? 'container' : 'package',
    description: server.description ?? '',
  };
  if (server.transport) summary.transport = server.transport;
  if (server.tier) summary.tier = server.tier;
  if (server.metadata?.stars !== undefined) summary.stars = server.metadata.stars;
  return summary;
}
