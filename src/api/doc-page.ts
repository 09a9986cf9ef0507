import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi.js';

/**
 * `GET /api/doc` (`thv serve --openapi`): a readable reference built from the same OpenAPI document
 * as `/api/openapi.json`. Self-contained (inline CSS, no scripts, nothing fetched from a CDN), so it
 * works offline and under a strict Content-Security-Policy.
 */
export function registerDocPage(app: FastifyInstance): void {
  let cached: string | undefined;
  app.get('/api/doc', { schema: { hide: true } }, async (_request, reply) => {
    cached ??= renderDocPage(openApiDocument(app));
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(cached);
  });
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: unknown }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

export function renderDocPage(doc: Record<string, unknown>): string {
  const info = (doc.info ?? {}) as { title?: string; version?: string; description?: string };
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''}) ${esc(p.description ?? '')} <code>${esc(schemaType(p.schema))}</code></li>`)
        .join('');
      const body = op.requestBody?.content?.['application/json']?.schema;
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => {
          const schema = Object.values(r.content ?? {})[0]?.schema;
          return `<li><b>${esc(status)}</b> ${esc(r.description ?? '')}${schema ? `<pre>${esc(JSON.stringify(schema, null, 2))}</pre>` : ''}</li>`;
        })
        .join('');
      sections.push(
        `<section id="${esc(`${method}-${path}`)}"><h2><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h2>` +
          `<p>${esc(op.summary ?? '')}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}` +
          (params ? `<h3>Parameters</h3><ul>${params}</ul>` : '') +
          (body ? `<h3>Request body</h3><pre>${esc(JSON.stringify(body, null, 2))}</pre>` : '') +
          (responses ? `<h3>Responses</h3><ul>${responses}</ul>` : '') +
          `</section>`,
      );
    }
  }
  const title = `${info.title ?? 'API'} ${info.version ?? ''}`.trim();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ccc;padding:.5rem 0}
.m{display:inline-block;min-width:4.5rem;font-family:monospace}pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:.8rem}</style></head>
<body><h1>${esc(title)}</h1><p>${esc(info.description ?? '')}</p><p>The machine-readable document: <code>/api/openapi.json</code>.</p>
${sections.join('\n')}
</body></html>
`;
}

function schemaType(schema: unknown): string {
  const s = schema as { type?: string } | undefined;
  return s?.type ?? '';
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
