#!/usr/bin/env node
// thv's conformance server on the v1 MCP SDK (`@modelcontextprotocol/sdk` 1.x): a 2025-era server, written
// from the requirement texts of the official conformance server suite's scenarios (docs/workloads.md#conformance).
// The v1 SDK knows no 2026-07-28 wire, so this server answers modern requests as any 2025-era server does.
//
//   node --import tsx conformance/servers/v1.ts stdio     StdioServerTransport
//   PORT=<n> node --import tsx conformance/servers/v1.ts  sessionful streamable HTTP on 127.0.0.1:<n>/mcp
import { randomUUID } from 'node:crypto';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';
import { ELICIT_TOOLS, LOG_LINES, PLAIN_TOOLS, PROMPTS, STATIC_RESOURCES, TEMPLATE_RESOURCE, complete, promptArgsShape, sleep, templateText } from './content.js';
import { readJson, serveHttp } from './http.js';

function buildServer(): McpServer {
  const server = new McpServer(
    { name: 'thv-conformance-v1', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true }, logging: {}, completions: {} } },
  );

  for (const [name, tool] of Object.entries(PLAIN_TOOLS)) {
    server.registerTool(name, { description: tool.description, inputSchema: {} }, async () => ({
      content: tool.content(),
      ...(tool.isError ? { isError: true } : {}),
    }));
  }

  server.registerTool('test_tool_with_logging', { description: 'Logs three info messages while it runs', inputSchema: {} }, async (_args, extra) => {
    for (const [i, line] of LOG_LINES.entries()) {
      if (i > 0) await sleep(50);
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: line } });
    }
    return { content: [{ type: 'text', text: 'Logging tool finished' }] };
  });

  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100 of 100', inputSchema: {} }, async (_args, extra) => {
    const progressToken = extra._meta?.progressToken;
    for (const [i, progress] of [0, 50, 100].entries()) {
      if (i > 0) await sleep(50);
      if (progressToken !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
    }
    return { content: [{ type: 'text', text: 'Progress tool finished' }] };
  });

  // Server→client requests go out as requests related to the tool call (on its response stream).
  server.registerTool('test_sampling', { description: 'Asks the client to sample', inputSchema: { prompt: z.string() } }, async ({ prompt }, extra) => {
    if (!server.server.getClientCapabilities()?.sampling) throw new McpError(ErrorCode.InvalidRequest, 'The client does not support sampling');
    const answer = await extra.sendRequest(
      { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } },
      CreateMessageResultSchema,
    );
    const text = answer.content.type === 'text' ? answer.content.text : JSON.stringify(answer.content);
    return { content: [{ type: 'text', text: `LLM response: ${text}` }] };
  });
  const elicitTool = (name: string, description: string, message: (args: { message?: string }) => string, requestedSchema: object, label: string) =>
    server.registerTool(name, { description, inputSchema: { message: z.string().optional() } }, async (args, extra) => {
      if (!server.server.getClientCapabilities()?.elicitation) throw new McpError(ErrorCode.InvalidRequest, 'The client does not support elicitation');
      const answer = await extra.sendRequest({ method: 'elicitation/create', params: { message: message(args), requestedSchema: requestedSchema as never } }, ElicitResultSchema);
      return { content: [{ type: 'text', text: `${label}: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}` }] };
    });
  for (const tool of ELICIT_TOOLS) elicitTool(tool.name, tool.description, tool.message, tool.schema, tool.label);

  // Resources.
  for (const r of STATIC_RESOURCES) {
    server.registerResource(r.name, r.uri, { description: r.description, mimeType: r.mimeType }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: r.mimeType, ...r.content }] }));
  }
  const template = TEMPLATE_RESOURCE;
  server.registerResource(
    template.name,
    new ResourceTemplate(template.uriTemplate, { list: undefined }),
    { description: template.description, mimeType: template.mimeType },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: template.mimeType, text: templateText(String(id)) }] }),
  );
  const subscriptions = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  // Prompts.
  for (const p of PROMPTS) {
    const messages = (args: Record<string, unknown>) => ({ messages: p.messages(args as Record<string, string>) });
    if (!p.args) server.registerPrompt(p.name, { description: p.description }, () => messages({}));
    else server.registerPrompt(p.name, { description: p.description, argsSchema: promptArgsShape(p.args, (schema) => completable(schema, (value) => complete(value))) }, messages);
  }
  return server;
}

if (process.argv[2] === 'stdio') {
  await buildServer().connect(new StdioServerTransport());
} else {
  // One server instance per session, as the v1 SDK's streamable HTTP transport expects.
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  serveHttp(Number(process.env.PORT ?? 0), async (req, res) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? sessions.get(id) : undefined;
    if (existing) return existing.handleRequest(req, res, body);
    if (id === undefined && req.method === 'POST' && isInitializeRequest(body)) {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
        onsessionclosed: (sessionId) => void sessions.delete(sessionId),
      });
      await buildServer().connect(transport);
      return transport.handleRequest(req, res, body);
    }
    res
      .writeHead(id === undefined ? 400 : 404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: id === undefined ? 'Bad Request: no valid session' : 'Session not found' } }));
  });
}
