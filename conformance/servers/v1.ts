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
import { ELICIT, LOG_LINES, PLAIN_TOOLS, PNG_BASE64, TEXT, complete, sleep, templateText } from './content.js';
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
  elicitTool('test_elicitation', 'Asks the user for a name and an email', (a) => a.message ?? 'Please provide your information', ELICIT.userInfo, 'User response');
  elicitTool('test_elicitation_sep1034_defaults', 'Elicitation with defaults (SEP-1034)', () => 'Please review the defaults', ELICIT.defaults, 'Elicitation completed');
  elicitTool('test_elicitation_sep1330_enums', 'Elicitation with enum variants (SEP-1330)', () => 'Please choose', ELICIT.enums, 'Elicitation completed');

  // Resources.
  server.registerResource('static-text', 'test://static-text', { description: 'A static text resource', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: TEXT.staticText }],
  }));
  server.registerResource('static-binary', 'test://static-binary', { description: 'A static PNG', mimeType: 'image/png' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_BASE64 }],
  }));
  server.registerResource('watched-resource', 'test://watched-resource', { description: 'A resource to subscribe to', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: TEXT.watched }],
  }));
  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { description: 'Data for an id', mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: templateText(String(id)) }] }),
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
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: TEXT.simplePrompt } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two arguments',
      argsSchema: { arg1: completable(z.string().describe('First test argument'), (value) => complete(value)), arg2: z.string().describe('Second test argument') },
    },
    ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { description: 'A prompt embedding a resource', argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') } },
    ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: TEXT.promptEmbedded } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
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
