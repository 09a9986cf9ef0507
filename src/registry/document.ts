import { ThvError } from '../core/errors.js';
import { log } from '../core/log.js';
import { serverJsonToCatalogServer } from './convert.js';
import { isLegacyDocument } from './legacy.js';
import { isRemoteServer, type Catalog, type ServerJson } from './types.js';

/**
 * Turns a registry JSON document (the upstream wrapper `{"$schema","version","meta","data":
 * {"servers":[…]}}`) into a catalog. The legacy ToolHive format is refused with the convert hint.
 */
export function parseRegistryDocument(text: string, source: string): Catalog {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the text ("Unexpected token 'r', \"root:$y$…\" is not valid JSON"):
    // only the position is kept, so an error never echoes a file's content.
    const position = /position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
    throw new ThvError('registry_invalid_response', `registry ${source} is not valid JSON${position ? ` at ${position}` : ''}`);
  }
  if (isLegacyDocument(doc)) {
    const isFile = !/^https?:\/\//.test(source);
    throw new ThvError('registry_legacy_format', `registry ${source} uses the legacy ToolHive format`, {
      hint: isFile
        ? `Run \`thv registry convert --in ${source} --in-place\` to convert it to the upstream format.`
        : 'Download it and run `thv registry convert --in <file> --in-place` to convert it to the upstream format.',
    });
  }
  const servers = (doc as { data?: { servers?: unknown } } | null)?.data?.servers;
  if (!Array.isArray(servers)) {
    throw new ThvError(
      'registry_invalid_response',
      `registry ${source} is not a registry document: expected {"data": {"servers": [...]}}`,
    );
  }
  const wrapper = doc as { version?: string; meta?: { last_updated?: string } };
  return catalogFromServerJsons(servers as ServerJson[], { version: wrapper.version, last_updated: wrapper.meta?.last_updated });
}

/** Converts entries one by one; an entry that cannot be converted is skipped and named in the log. */
export function catalogFromServerJsons(entries: ServerJson[], meta: { version?: string; last_updated?: string } = {}): Catalog {
  const catalog: Catalog = { servers: [], remote_servers: [] };
  if (meta.version) catalog.version = meta.version;
  if (meta.last_updated) catalog.last_updated = meta.last_updated;
  for (const entry of entries) {
    if (!entry || typeof entry !== 'object' || typeof entry.name !== 'string') {
      log().debug({ entry: typeof entry }, 'skipping a registry entry without a name');
      continue;
    }
    const result = serverJsonToCatalogServer(entry);
    if ('skipped' in result) {
      log().debug({ server: entry.name, reason: result.skipped }, 'skipping registry entry');
      continue;
    }
    if (isRemoteServer(result.server)) catalog.remote_servers.push(result.server);
    else catalog.servers.push(result.server);
  }
  return catalog;
}
