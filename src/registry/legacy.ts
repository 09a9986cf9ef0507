/**
 * The legacy ToolHive registry format (`servers` / `remote_servers` maps keyed by short name) and
 * its conversion to the upstream wrapper that every provider reads (docs/registry.md#where-the-catalog-comes-from).
 */
import { stat } from 'node:fs/promises';
import { readRegistryFile } from './read-file.js';
import { ThvError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { legacyImageToServerJson, legacyRemoteToServerJson } from './convert.js';
import type { ImageMetadata, RemoteServerMetadata, ServerJson } from './types.js';

export const UPSTREAM_REGISTRY_SCHEMA =
  'https://raw.githubusercontent.com/stacklok/toolhive-core/main/registry/types/data/upstream-registry.schema.json';

export interface UpstreamDocument {
  $schema: string;
  version: string;
  meta: { last_updated: string };
  data: { servers: ServerJson[] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Legacy documents have `servers` and/or `remote_servers` as maps and no upstream `data` wrapper. */
export function isLegacyDocument(doc: unknown): boolean {
  if (!isRecord(doc) || 'data' in doc) return false;
  const hasServers = 'servers' in doc;
  const hasRemotes = 'remote_servers' in doc;
  if (!hasServers && !hasRemotes) return false;
  return (!hasServers || isRecord(doc.servers)) && (!hasRemotes || isRecord(doc.remote_servers));
}

export function isUpstreamDocument(doc: unknown): boolean {
  return isRecord(doc) && isRecord(doc.data) && Array.isArray(doc.data.servers);
}

function entriesOf<T>(map: unknown, what: string): Array<[string, T]> {
  if (map === undefined) return [];
  if (!isRecord(map)) throw new ThvError('bad_request', `legacy registry: "${what}" is not a map of servers`);
  return Object.entries(map)
    .map(([name, value]): [string, T] => {
      if (!isRecord(value)) throw new ThvError('bad_request', `legacy registry: ${what}.${name} is not an object`);
      return [name, value as T];
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Container servers first, then remote servers, each sorted by short name, as ToolHive publishes
 * its upstream catalog.
 */
export function convertLegacyDocument(doc: unknown, now: () => Date = () => new Date()): UpstreamDocument {
  if (!isLegacyDocument(doc)) {
    throw new ThvError('bad_request', 'not a legacy ToolHive registry (no top-level "servers" or "remote_servers" map)');
  }
  const legacy = doc as Record<string, unknown>;
  const images = entriesOf<ImageMetadata>(legacy.servers, 'servers').map(([name, image]) => {
    if (typeof image.image !== 'string' || image.image === '') {
      throw new ThvError('bad_request', `legacy registry: server "${name}" has no image`, {
        hint: 'Add its "image" or remove the entry, then convert again.',
      });
    }
    return legacyImageToServerJson(name, image);
  });
  const remotes = entriesOf<RemoteServerMetadata>(legacy.remote_servers, 'remote_servers').map(([name, remote]) => {
    if (typeof remote.url !== 'string' || remote.url === '') {
      throw new ThvError('bad_request', `legacy registry: remote server "${name}" has no url`, {
        hint: 'Add its "url" or remove the entry, then convert again.',
      });
    }
    return legacyRemoteToServerJson(name, remote);
  });
  const lastUpdated = typeof legacy.last_updated === 'string' ? legacy.last_updated : now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    $schema: UPSTREAM_REGISTRY_SCHEMA,
    version: typeof legacy.version === 'string' ? legacy.version : '1.0.0',
    meta: { last_updated: lastUpdated },
    data: { servers: [...images, ...remotes] },
  };
}

export interface ConvertFileOptions {
  inFile: string;
  /** Where to write; leave this and `inPlace` unset to get the JSON back without writing. */
  outFile?: string;
  inPlace?: boolean;
}

/** Registry files are shared, not secret; a new output file is world-readable like the input was. */
const NEW_REGISTRY_FILE_MODE = 0o644;

async function readJson(file: string): Promise<unknown> {
  // Capped and regular files only, like a registry file (src/registry/providers/file.ts).
  const text = await readRegistryFile(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Never the parser's message: it quotes the file's first bytes.
    const position = /position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
    throw new ThvError('bad_request', `registry file ${file} is not valid JSON${position ? ` at ${position}` : ''}`, {
      hint: 'Fix the JSON syntax, then convert again.',
    });
  }
}

async function modeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o777;
  } catch {
    return undefined;
  }
}

/**
 * Converts a legacy registry file. Writes atomically to `outFile`, or over `inFile` with `inPlace`
 * (keeping the file's mode; a new file gets 0644); nothing is written when reading or converting
 * fails. `written` is the path written, or `-` when neither was given and the caller should print
 * `json` itself.
 */
export async function convertLegacyFile(
  options: ConvertFileOptions,
): Promise<{ written: string; count: number; json: string }> {
  const { inFile, outFile, inPlace } = options;
  if (inPlace && outFile !== undefined) {
    throw new ThvError('bad_request', 'use either an output file or --in-place, not both');
  }
  const doc = await readJson(inFile);
  if (isUpstreamDocument(doc)) {
    throw new ThvError('bad_request', `registry file ${inFile} is already in the upstream format`, {
      hint: 'Nothing to convert; use the file as it is.',
    });
  }
  if (!isLegacyDocument(doc)) {
    throw new ThvError('bad_request', `registry file ${inFile} is not a legacy ToolHive registry`, {
      hint: 'A legacy registry has top-level "servers" and/or "remote_servers" maps.',
    });
  }
  const converted = convertLegacyDocument(doc);
  const json = `${JSON.stringify(converted, null, 2)}\n`;
  const target = inPlace ? inFile : outFile;
  if (target === undefined) return { written: '-', count: converted.data.servers.length, json };
  await writeFileAtomic(target, json, (await modeOf(target)) ?? NEW_REGISTRY_FILE_MODE, { ownFolder: false });
  return { written: target, count: converted.data.servers.length, json };
}
