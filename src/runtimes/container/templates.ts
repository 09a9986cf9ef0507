import { ThvError } from '../../core/errors.js';

/**
 * Dockerfiles for protocol schemes (docs/runtimes.md, "Image builds"), after ToolHive's templates
 * (pkg/container/templates): two stages, the package installed at build time in the first, copied
 * into a fresh image that runs as an unprivileged user.
 */
export type BuildScheme = 'npx' | 'uvx' | 'go';

export const BUILD_SCHEMES: readonly BuildScheme[] = ['npx', 'uvx', 'go'];

/** ToolHive's defaults; users whose networks differ point them at a mirror (`--runtime-image`, config). */
export const DEFAULT_BUILDER_IMAGES: Readonly<Record<BuildScheme, string>> = {
  npx: 'node:24-alpine',
  uvx: 'python:3.14-slim',
  go: 'golang:1.26-alpine',
};
export const DEFAULT_GO_FINAL_IMAGE = 'alpine:3.23';

export interface SchemeRef {
  scheme: BuildScheme;
  /** As written: `@scope/pkg@1.2.3`, `mcp-server-fetch@0.6`, `github.com/x/y@v1`. */
  package: string;
  /** Without the version: what the image runs. */
  name: string;
  version?: string;
}

// Package names end up in a Dockerfile RUN line: only the characters registries allow, so nothing
// can reach the shell.
const NPM = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
const PYPI = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(\[[a-z0-9,._-]+\])?$/i;
const GO = /^[a-z0-9.-]+(\/[a-z0-9._~-]+)+$/i;
const VERSION = /^[a-z0-9][a-z0-9.+_~-]*$/i;

/** `npx://pkg@ver` → its parts; undefined when `ref` is not a build scheme. */
export function parseSchemeRef(ref: string): SchemeRef | undefined {
  const m = /^(npx|uvx|go):\/\/(.+)$/.exec(ref);
  if (!m) return undefined;
  const scheme = m[1] as BuildScheme;
  const spec = m[2]!;
  const at = spec.lastIndexOf('@');
  const hasVersion = at > 0;
  const name = hasVersion ? spec.slice(0, at) : spec;
  const version = hasVersion ? spec.slice(at + 1) : undefined;
  const valid = { npx: NPM, uvx: PYPI, go: GO }[scheme].test(name) && (version === undefined || VERSION.test(version));
  if (!valid) {
    throw new ThvError('bad_request', `"${ref.slice(0, 200)}" is not a valid ${scheme}:// package reference`, {
      hint: { npx: 'Use npx://<npm package>[@version], e.g. npx://@modelcontextprotocol/server-everything@2025.1.1.', uvx: 'Use uvx://<PyPI package>[@version], e.g. uvx://mcp-server-fetch@2025.1.1.', go: 'Use go://<module path>[@version], e.g. go://github.com/example/server@v1.0.0.' }[scheme],
    });
  }
  return { scheme, package: spec, name, ...(version ? { version } : {}) };
}

/** `toolhivelocal/<scheme>-<pkg>:<YYYYMMDDhhmmss>` like ToolHive; the name reduced to what a tag allows. */
export function localImageTag(ref: SchemeRef, now: Date): string {
  const pkg = ref.name.toLowerCase().replace(/^@/, '').replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '').slice(0, 100);
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `toolhivelocal/${ref.scheme}-${pkg}:${stamp}`;
}

export interface TemplateOptions {
  builderImage?: string;
  /** Arguments baked into the entrypoint after the package (ToolHive's BuildArgs). */
  args?: string[];
}

export function renderDockerfile(ref: SchemeRef, options: TemplateOptions = {}): string {
  const builder = options.builderImage || DEFAULT_BUILDER_IMAGES[ref.scheme];
  const args = options.args ?? [];
  for (const arg of args) {
    if (/['"\\\n\r$`]/.test(arg)) throw new ThvError('bad_request', 'build arguments may not contain quotes, backslashes, $, ` or newlines');
  }
  const jsonArgs = args.map((a) => `, ${JSON.stringify(a)}`).join('');
  switch (ref.scheme) {
    case 'npx':
      return `FROM ${builder} AS builder
ENV NODE_ENV=production NPM_CONFIG_LOGLEVEL=error NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_PROGRESS=false
WORKDIR /build
# The package and its dependencies are installed at build time, so a start needs no registry.
RUN echo '{"name":"mcp-container","version":"1.0.0"}' > package.json && npm install --save ${ref.package}

FROM ${builder}
WORKDIR /app
RUN addgroup -S appgroup && adduser -S appuser -G appgroup && chown -R appuser:appgroup /app
COPY --from=builder --chown=appuser:appgroup /build/node_modules /app/node_modules
COPY --from=builder --chown=appuser:appgroup /build/package.json /app/package.json
COPY --from=builder --chown=appuser:appgroup /build/package-lock.json /app/package-lock.json
ENV NODE_PATH=/app/node_modules PATH=/app/node_modules/.bin:$PATH
USER appuser
ENTRYPOINT ["npx", ${JSON.stringify(ref.name)}${jsonArgs}]
`;
    case 'uvx':
      return `FROM ${builder} AS builder
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_SYSTEM_PYTHON=1 UV_TOOL_DIR=/opt/uv-tools UV_TOOL_BIN_DIR=/opt/uv-tools/bin
WORKDIR /build
RUN pip install --no-cache-dir uv && uv tool install ${JSON.stringify(ref.version ? `${ref.name}==${ref.version}` : ref.name)}

FROM ${builder}
WORKDIR /app
RUN groupadd -r appgroup && useradd -r -g appgroup -m appuser && chown -R appuser:appgroup /app
COPY --from=builder --chown=appuser:appgroup /opt/uv-tools /opt/uv-tools
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_TOOL_DIR=/opt/uv-tools UV_TOOL_BIN_DIR=/opt/uv-tools/bin PATH="/opt/uv-tools/bin:$PATH"
USER appuser
ENTRYPOINT ["sh", "-c", ${JSON.stringify(`exec '${ref.name.replace(/\[.*$/, '')}'${args.map((a) => ` '${a}'`).join('')} "$@"`)}, "--"]
`;
    case 'go':
      return `FROM ${builder} AS builder
ENV CGO_ENABLED=0 GOOS=linux GO111MODULE=on
WORKDIR /build
RUN mkdir -p /app && go install ${JSON.stringify(`${ref.name}@${ref.version ?? 'latest'}`)} && find "$(go env GOPATH)/bin" -type f -perm -u+x -exec mv {} /app/mcp-server \\;

FROM ${DEFAULT_GO_FINAL_IMAGE}
WORKDIR /app
RUN addgroup -S appgroup && adduser -S appuser -G appgroup && chown -R appuser:appgroup /app
COPY --from=builder --chown=appuser:appgroup /app/mcp-server /app/mcp-server
USER appuser
ENTRYPOINT ["/app/mcp-server"${jsonArgs}]
`;
  }
}
