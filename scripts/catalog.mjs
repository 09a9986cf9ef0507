// Turns the project's catalog source (catalog/servers.yaml) into the registry document thv embeds
// (dist/embedded-registry.json): the upstream wrapper `{"$schema","version","meta","data":{"servers":[…]}}`
// of MCP server.json entries, with ToolHive's fields under
// `_meta["io.modelcontextprotocol.registry/publisher-provided"]["io.github.stacklok"][<image, package or url>]`,
// which is what src/registry/convert.ts reads. Run by scripts/build.mjs; see docs/registry.md.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

export const CATALOG_SOURCE = join('catalog', 'servers.yaml');
export const CATALOG_OUTPUT = join('dist', 'embedded-registry.json');

const UPSTREAM_REGISTRY_SCHEMA =
  'https://raw.githubusercontent.com/stacklok/toolhive-core/main/registry/types/data/upstream-registry.schema.json';
const SERVER_JSON_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
const PUBLISHER_PROVIDED = 'io.modelcontextprotocol.registry/publisher-provided';
const NAMESPACE = 'io.github.stacklok';
/** server.json requires a version; catalog entries describe the server, not a release of it. */
const ENTRY_VERSION = '1.0.0';
const HTTP_TRANSPORTS = new Set(['sse', 'streamable-http']);

const shortName = z.string().regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'lower-case letters, digits, dots and dashes');
const tag = z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'tags are lower-case words joined by dashes');
const url = z.url({ protocol: /^https?$/ });
const port = z.number().int().min(1).max(65535);
/** One line in our own words: the listing shows it in a table column. */
const description = z
  .string()
  .min(10, 'say what the server does in one line')
  .max(120, 'keep it to one line of at most 120 characters')
  .refine((s) => !s.includes('\n'), 'one line only');
const input = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a variable or header name'),
  description: z.string().min(3),
  required: z.boolean().optional(),
  secret: z.boolean().optional(),
  default: z.string().optional(),
});
const common = {
  name: shortName,
  description,
  repository: url.optional(),
  homepage: url.optional(),
  tier: z.enum(['Official', 'Community']),
  status: z.enum(['Active', 'Deprecated']).optional(),
  tags: z.array(tag).min(1),
  tools: z.array(z.string().min(1)).optional(),
  env: z.array(input).optional(),
};
const localServer = z
  .strictObject({
    ...common,
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9]$/, 'an OCI image reference, e.g. ghcr.io/owner/name:1.2.3')
      .refine((s) => /:[^/]+$/.test(s) || s.includes('@sha256:'), 'pin the image with a tag or digest')
      .optional(),
    npm: z
      .string()
      .regex(/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+@[0-9][^\s@]*$/, 'an npm package with its pinned version: name@1.2.3')
      .optional(),
    pypi: z.string().regex(/^[A-Za-z0-9._-]+==[0-9][^\s=]*$/, 'a PyPI package with its pinned version: name==1.2.3').optional(),
    package_args: z.array(z.string()).optional(),
    transport: z.enum(['stdio', 'sse', 'streamable-http']).optional(),
    port: port.optional(),
    args: z.array(z.string()).optional(),
    network: z
      .union([
        z.literal('none'),
        z.strictObject({ any_host: z.literal(true).optional(), hosts: z.array(z.string().min(1)).optional(), ports: z.array(port).optional() }),
      ])
      .optional(),
    read: z.array(z.string().min(1)).optional(),
    write: z.array(z.string().min(1)).optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.image && !s.npm && !s.pypi) ctx.addIssue({ code: 'custom', message: 'give an image, an npm or a pypi package', path: ['name'] });
    const http = HTTP_TRANSPORTS.has(s.transport ?? 'stdio');
    if (http && s.port === undefined) ctx.addIssue({ code: 'custom', message: `a ${s.transport} server needs the port it listens on`, path: ['transport'] });
    if (!http && s.port !== undefined) ctx.addIssue({ code: 'custom', message: 'only sse and streamable-http servers listen on a port', path: ['port'] });
    if (s.package_args && !s.npm && !s.pypi) ctx.addIssue({ code: 'custom', message: 'package_args need an npm or pypi package', path: ['package_args'] });
  });
const remoteServer = z.strictObject({
  ...common,
  url: url.refine((u) => u.startsWith('https://'), 'remote servers are reached over https'),
  transport: z.enum(['sse', 'streamable-http']),
  headers: z.array(input).optional(),
  oauth: z
    .strictObject({
      issuer: url.optional(),
      authorize_url: url.optional(),
      token_url: url.optional(),
      client_id: z.string().optional(),
      scopes: z.array(z.string().min(1)).optional(),
      use_pkce: z.boolean().optional(),
    })
    .optional(),
});
const catalogFile = z
  .strictObject({
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    last_updated: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'an RFC 3339 UTC time, e.g. 2026-11-30T00:00:00Z'),
    servers: z.array(localServer),
    remotes: z.array(remoteServer),
  })
  .superRefine((doc, ctx) => {
    const seen = new Map();
    for (const [list, entries] of [['servers', doc.servers], ['remotes', doc.remotes]]) {
      entries.forEach((entry, i) => {
        if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', message: `"${entry.name}" is already used by ${seen.get(entry.name)}`, path: [list, i, 'name'] });
        else seen.set(entry.name, `${list}[${i}]`);
      });
    }
  });

/** Drops undefined values and empty lists, so the document carries only what the catalog says. */
function compact(value) {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

function splitAt(spec, separator) {
  const i = spec.lastIndexOf(separator);
  return [spec.slice(0, i), spec.slice(i + separator.length)];
}

function repositoryOf(link) {
  if (!link) return undefined;
  const host = new URL(link).hostname;
  return { url: link, source: host === 'github.com' ? 'github' : host === 'gitlab.com' ? 'gitlab' : host };
}

const toInput = (v) => compact({ name: v.name, description: v.description, isRequired: v.required || undefined, isSecret: v.secret || undefined, default: v.default });
const toEnvVar = (v) => compact({ name: v.name, description: v.description, required: v.required === true, secret: v.secret || undefined, default: v.default });

function permissionsOf(s) {
  if (s.network === undefined && !s.read && !s.write) return undefined;
  const network = s.network === undefined ? undefined : { outbound: s.network === 'none' ? {} : compact({ insecure_allow_all: s.network.any_host, allow_host: s.network.hosts, allow_port: s.network.ports }) };
  return compact({ network, read: s.read, write: s.write });
}

function extension(key, fields) {
  return { [PUBLISHER_PROVIDED]: { [NAMESPACE]: { [key]: compact(fields) } } };
}

function entryBase(s) {
  return compact({ $schema: SERVER_JSON_SCHEMA, name: `${NAMESPACE}/${s.name}`, description: s.description, repository: repositoryOf(s.repository), version: ENTRY_VERSION });
}

function sharedFields(s) {
  return { status: s.status ?? 'Active', tier: s.tier, tools: s.tools, tags: s.tags, custom_metadata: s.homepage ? { homepage: s.homepage } : undefined };
}

function localEntry(s) {
  const type = s.transport ?? 'stdio';
  const transport = compact({ type, url: HTTP_TRANSPORTS.has(type) ? `http://localhost:${s.port}` : undefined });
  const environmentVariables = (s.env ?? []).map(toInput);
  const packageArguments = (s.package_args ?? []).map((value) => ({ type: 'positional', value }));
  const packages = [];
  if (s.image) packages.push(compact({ registryType: 'oci', identifier: s.image, transport, environmentVariables }));
  for (const [registryType, spec, separator, runtimeHint] of [['npm', s.npm, '@', 'npx'], ['pypi', s.pypi, '==', 'uvx']]) {
    if (!spec) continue;
    const [identifier, version] = splitAt(spec, separator);
    packages.push(compact({ registryType, identifier, version, runtimeHint, transport, packageArguments, environmentVariables }));
  }
  return {
    ...entryBase(s),
    packages,
    _meta: extension(packages[0].identifier, { ...sharedFields(s), permissions: permissionsOf(s), args: s.args }),
  };
}

function remoteEntry(s) {
  return {
    ...entryBase(s),
    remotes: [compact({ type: s.transport, url: s.url, headers: (s.headers ?? []).map(toInput) })],
    _meta: extension(s.url, { ...sharedFields(s), env_vars: s.env?.map(toEnvVar), oauth_config: s.oauth }),
  };
}

/** `file:line:column` of the YAML node at `path`, or of the nearest parent that exists. */
function locate(doc, lineCounter, file, path) {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}

export class CatalogError extends Error {}

/**
 * Validates the catalog source and returns the registry document. Every problem is reported with
 * the file, line and column of the offending YAML node, so a typo fails the build where it is.
 */
export function buildRegistryDocument(text, file = CATALOG_SOURCE) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    throw new CatalogError(
      doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? '?'}:${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`).join('\n'),
    );
  }
  const parsed = catalogFile.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new CatalogError(
      parsed.error.issues
        .map((issue) => {
          // An unknown key (a typo) is reported where that key is, not at its entry.
          const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
          return `${locate(doc, lineCounter, file, path)}: ${path.join('.') || '(top)'}: ${issue.message}`;
        })
        .join('\n'),
    );
  }
  const catalog = parsed.data;
  return {
    $schema: UPSTREAM_REGISTRY_SCHEMA,
    version: catalog.version,
    meta: { last_updated: catalog.last_updated },
    data: { servers: [...catalog.servers.map(localEntry), ...catalog.remotes.map(remoteEntry)] },
  };
}

/** Reads catalog/servers.yaml under `root` and writes dist/embedded-registry.json; returns the entry count. */
export async function writeEmbeddedCatalog(root) {
  const source = join(root, CATALOG_SOURCE);
  const document = buildRegistryDocument(await readFile(source, 'utf8'), relative(process.cwd(), source) || source);
  const out = join(root, CATALOG_OUTPUT);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(document)}\n`);
  return document.data.servers.length;
}
