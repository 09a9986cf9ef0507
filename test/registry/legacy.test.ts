import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ThvError } from '../../src/core/errors.js';
import {
  UPSTREAM_REGISTRY_SCHEMA,
  convertLegacyDocument,
  convertLegacyFile,
  isLegacyDocument,
  type UpstreamDocument,
} from '../../src/registry/legacy.js';

/**
 * A team-written legacy catalog and, written by hand, the upstream document it converts to;
 * ToolHive's own pair is checked by test/compat/legacy.test.ts.
 */
const FIXTURES = join(import.meta.dirname, '../fixtures/registry');
const LEGACY_FILE = join(FIXTURES, 'legacy-registry.json');
const UPSTREAM_FILE = join(FIXTURES, 'example-registry.json');
const FIXTURE_COUNT = 6;

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

async function rejection(promise: Promise<unknown>): Promise<ThvError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ThvError);
  return err as ThvError;
}

describe('isLegacyDocument', () => {
  it('recognises the legacy catalog and not the upstream one', () => {
    expect(isLegacyDocument(readJson(LEGACY_FILE))).toBe(true);
    expect(isLegacyDocument(readJson(UPSTREAM_FILE))).toBe(false);
  });

  it('needs servers or remote_servers as maps and no data wrapper', () => {
    expect(isLegacyDocument({ remote_servers: {} })).toBe(true);
    expect(isLegacyDocument({ servers: {} })).toBe(true);
    expect(isLegacyDocument({ servers: [] })).toBe(false);
    expect(isLegacyDocument({ servers: {}, remote_servers: [] })).toBe(false);
    expect(isLegacyDocument({ servers: {}, data: { servers: [] } })).toBe(false);
    expect(isLegacyDocument({})).toBe(false);
    expect(isLegacyDocument([])).toBe(false);
    expect(isLegacyDocument(null)).toBe(false);
    expect(isLegacyDocument('servers')).toBe(false);
  });
});

describe('convertLegacyDocument', () => {
  const upstream = readJson<UpstreamDocument>(UPSTREAM_FILE);
  const converted = convertLegacyDocument(readJson(LEGACY_FILE));

  it('produces the published upstream wrapper', () => {
    expect(converted.$schema).toBe(UPSTREAM_REGISTRY_SCHEMA);
    expect({ $schema: converted.$schema, version: converted.version, meta: converted.meta }).toStrictEqual({
      $schema: upstream.$schema,
      version: upstream.version,
      meta: upstream.meta,
    });
  });

  it('produces the expected servers: container servers, then remotes, each sorted by short name', () => {
    expect(converted.data.servers.map((s) => s.name.replace('io.github.stacklok/', ''))).toStrictEqual([
      'clock',
      'fetch',
      'notes',
      'pg-query',
      'docs-search',
      'issues-remote',
    ]);
    expect(converted.data.servers).toStrictEqual(upstream.data.servers);
  });

  it('stamps a document without last_updated with the injected time', () => {
    const doc = convertLegacyDocument({ servers: {} }, () => new Date('2026-01-02T03:04:05.678Z'));
    expect(doc).toStrictEqual({
      $schema: UPSTREAM_REGISTRY_SCHEMA,
      version: '1.0.0',
      meta: { last_updated: '2026-01-02T03:04:05Z' },
      data: { servers: [] },
    });
  });

  it('refuses a server without an image, naming it', () => {
    expect(() => convertLegacyDocument({ servers: { broken: { description: 'x' } } })).toThrow(/server "broken" has no image/);
  });

  it('refuses a remote server without a url, naming it', () => {
    expect(() => convertLegacyDocument({ remote_servers: { lost: { description: 'x' } } })).toThrow(/"lost" has no url/);
  });
});

describe('convertLegacyFile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thv-legacy-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the converted registry to the output file, readable like any registry file', async () => {
    const out = join(dir, 'out', 'registry.json');
    const result = await convertLegacyFile({ inFile: LEGACY_FILE, outFile: out });
    expect(result.written).toBe(out);
    expect(result.count).toBe(FIXTURE_COUNT);
    const text = await readFile(out, 'utf8');
    expect(text).toBe(result.json);
    expect(JSON.parse(text)).toStrictEqual(convertLegacyDocument(readJson(LEGACY_FILE)));
    expect((await stat(out)).mode & 0o777).toBe(0o644);
  });

  it('converts in place, keeping the file mode', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, readFileSync(LEGACY_FILE));
    await chmod(file, 0o640);
    const result = await convertLegacyFile({ inFile: file, inPlace: true });
    expect(result.written).toBe(file);
    const doc = JSON.parse(await readFile(file, 'utf8')) as UpstreamDocument;
    expect(doc.data.servers).toHaveLength(FIXTURE_COUNT);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it('returns the JSON without writing when given no output', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, JSON.stringify({ remote_servers: { r: { description: 'd', url: 'https://r.example.com/mcp', transport: 'sse' } } }));
    const before = await readFile(file, 'utf8');
    const result = await convertLegacyFile({ inFile: file });
    expect(result.written).toBe('-');
    expect(result.count).toBe(1);
    expect((JSON.parse(result.json) as UpstreamDocument).data.servers[0]?.name).toBe('io.github.stacklok/r');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses a file already in the upstream format and leaves it alone', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, readFileSync(UPSTREAM_FILE));
    const err = await rejection(convertLegacyFile({ inFile: file, inPlace: true }));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('already in the upstream format');
    expect(await readFile(file, 'utf8')).toBe(readFileSync(UPSTREAM_FILE, 'utf8'));
  });

  it('reports malformed JSON with the file and position and writes nothing', async () => {
    const file = join(dir, 'registry.json');
    const broken = '{"servers": {"a": {"image": "x",}}}';
    await writeFile(file, broken);
    const out = join(dir, 'out.json');
    const err = await rejection(convertLegacyFile({ inFile: file, outFile: out }));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/position \d+|line \d+ column \d+/);
    expect(await readFile(file, 'utf8')).toBe(broken);
    expect(await readdir(dir)).toStrictEqual(['registry.json']);
  });

  it('leaves the input untouched when an in-place conversion fails on bad JSON', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, '{"servers": ');
    const err = await rejection(convertLegacyFile({ inFile: file, inPlace: true }));
    expect(err.code).toBe('bad_request');
    expect(await readFile(file, 'utf8')).toBe('{"servers": ');
    expect(await readdir(dir)).toStrictEqual(['registry.json']);
  });

  it('refuses a document that is neither format', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, '{"hello": "world"}');
    const err = await rejection(convertLegacyFile({ inFile: file, inPlace: true }));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('not a legacy ToolHive registry');
  });

  it('names a missing input file as not found', async () => {
    const err = await rejection(convertLegacyFile({ inFile: join(dir, 'nope.json'), inPlace: true }));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('nope.json');
  });

  it('refuses an output file together with in-place', async () => {
    const err = await rejection(convertLegacyFile({ inFile: LEGACY_FILE, outFile: join(dir, 'o.json'), inPlace: true }));
    expect(err.code).toBe('bad_request');
    expect(await readdir(dir)).toStrictEqual([]);
  });
});
