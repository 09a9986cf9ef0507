#!/usr/bin/env node
// thv's conformance server on the v2 MCP SDK (`@modelcontextprotocol/server` 2.x): one factory serves both
// protocol eras, written from the requirement texts of the official conformance server suite's scenarios
// (docs/workloads.md#conformance).
//
//   node --import tsx conformance/servers/v2.ts stdio     serveStdio: one era per connection
//   PORT=<n> node --import tsx conformance/servers/v2.ts  HTTP on 127.0.0.1:<n>/mcp, both eras: 2026-07-28
//                                                         through createMcpHandler, 2025-era requests through
//                                                         sessionful streamable HTTP (the "direct" baseline)
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ResourceNotFoundError,
  ResourceTemplate,
  WebStandardStreamableHTTPServerTransport,
  acceptedContent,
  completable,
  createMcpHandler,
  createRequestStateCodec,
  fromJsonSchema,
  inputRequired,
  isLegacyRequest,
  type ClientCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';
import { ELICIT, ELICIT_TOOLS, JSON_SCHEMA_2020_12, LOG_LINES, PLAIN_TOOLS, PROMPTS, STATIC_RESOURCES, TEMPLATE_RESOURCE, complete, promptArgsShape, sleep, templateText } from './content.js';
import { serveHttp } from './http.js';

/** How a server instance tells open listeners that its lists changed (differs between stdio and HTTP). */
interface Notifier {
  toolsChanged(server: McpServer): void;
  promptsChanged(server: McpServer): void;
}

// requestState is integrity-protected (the tampered-state scenario): HMAC with a per-process key, which
// is enough because one process serves every round of a flow (one stdio child, or the HTTP server).
const codec = createRequestStateCodec<{ round: number }>({ key: randomBytes(32) });

/** The client's capabilities: from the request's envelope (2026-07-28) or the initialize handshake. */
function clientCapabilities(server: McpServer, ctx: ServerContext): ClientCapabilities {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const fromEnvelope = envelope?.[CLIENT_CAPABILITIES_META_KEY];
  if (fromEnvelope && typeof fromEnvelope === 'object') return fromEnvelope as ClientCapabilities;
  return server.server.getClientCapabilities() ?? {};
}

/** What an elicitation answer says, as the tools report it. */
function describeElicitation(response: unknown): string {
  const r = (response ?? {}) as { action?: unknown; content?: unknown };
  return `action=${String(r.action)}, content=${JSON.stringify(r.content ?? {})}`;
}

function samplingText(response: unknown): string {
  const content = (response as { content?: unknown } | undefined)?.content;
  const block = Array.isArray(content) ? content[0] : content;
  return typeof (block as { text?: unknown } | undefined)?.text === 'string' ? (block as { text: string }).text : JSON.stringify(response);
}

function buildServer(notifier: Notifier): McpServer {
  const server = new McpServer(
    { name: 'thv-conformance-v2', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        logging: {},
        completions: {},
      },
      requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
    },
  );

  for (const [name, tool] of Object.entries(PLAIN_TOOLS)) {
    server.registerTool(name, { description: tool.description, inputSchema: z.object({}) }, async () => ({
      content: tool.content(),
      ...(tool.isError ? { isError: true } : {}),
    }));
  }

  const logTool = async (_args: unknown, ctx: ServerContext) => {
    for (const [i, line] of LOG_LINES.entries()) {
      if (i > 0) await sleep(50);
      await ctx.mcpReq.log('info', line);
    }
    return { content: [{ type: 'text' as const, text: 'Logging tool finished' }] };
  };
  server.registerTool('test_tool_with_logging', { description: 'Logs three info messages while it runs', inputSchema: z.object({}) }, logTool);
  // server-stateless: logs only when the request asked for a level
  server.registerTool('test_logging_tool', { description: 'Logs while it runs (diagnostic)', inputSchema: z.object({}) }, logTool);

  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100 of 100', inputSchema: z.object({}) }, async (_args, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (const [i, progress] of [0, 50, 100].entries()) {
      if (i > 0) await sleep(50);
      if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
    }
    return { content: [{ type: 'text', text: 'Progress tool finished' }] };
  });

  // Input from the client is asked for with input_required results; on a 2025-era connection the SDK
  // turns them into real server→client requests, so one handler serves both eras.
  server.registerTool('test_sampling', { description: 'Asks the client to sample', inputSchema: z.object({ prompt: z.string() }) }, async ({ prompt }, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.sample;
    if (answer === undefined) {
      return inputRequired({
        inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }) },
      });
    }
    return { content: [{ type: 'text', text: `LLM response: ${samplingText(answer)}` }] };
  });
  const elicitTool = (name: string, description: string, message: (args: { message?: string }) => string, requestedSchema: object, label: string) =>
    server.registerTool(name, { description, inputSchema: z.object({ message: z.string().optional() }) }, async (args, ctx) => {
      const answer = ctx.mcpReq.inputResponses?.input;
      if (answer === undefined) {
        return inputRequired({ inputRequests: { input: inputRequired.elicit({ message: message(args), requestedSchema: requestedSchema as never }) } });
      }
      return { content: [{ type: 'text', text: `${label}: ${describeElicitation(answer)}` }] };
    });
  for (const tool of ELICIT_TOOLS) elicitTool(tool.name, tool.description, tool.message, tool.schema, tool.label);

  server.registerTool('json_schema_2020_12_tool', { description: 'Tool with JSON Schema 2020-12 features', inputSchema: fromJsonSchema(JSON_SCHEMA_2020_12 as never) }, async () => ({
    content: [{ type: 'text', text: 'schema accepted' }],
  }));

  // SEP-2243: a string argument mirrored in an `Mcp-Param-Region` header, which the HTTP layer checks
  // against the body (http-custom-header-server-validation; on stdio that is the bridge's job).
  server.registerTool(
    'test_custom_header',
    {
      description: 'Echoes a region that clients also send as the Mcp-Param-Region header',
      inputSchema: fromJsonSchema({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] } as never),
    },
    async (args) => ({ content: [{ type: 'text', text: `region=${String((args as { region?: unknown }).region)}` }] }),
  );

  // 2026-07-28 multi-round-trip (SEP-2322) tools.
  const nameRequest = (message = 'What is your name?') => inputRequired.elicit({ message, requestedSchema: ELICIT.name as never });
  server.registerTool('test_input_required_result_elicitation', { description: 'Asks for a name, then greets', inputSchema: z.object({}) }, async (_args, ctx) => {
    const name = acceptedContent(ctx.mcpReq.inputResponses, 'user_name')?.name;
    if (typeof name !== 'string') return inputRequired({ inputRequests: { user_name: nameRequest() } });
    return { content: [{ type: 'text', text: `Hello, ${name}!` }] };
  });
  server.registerTool('test_input_required_result_sampling', { description: 'Asks the client to sample, then answers', inputSchema: z.object({}) }, async (_args, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.capital_question;
    if (answer === undefined || typeof answer !== 'object') {
      return inputRequired({
        inputRequests: {
          capital_question: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }),
        },
      });
    }
    return { content: [{ type: 'text', text: `Sampling said: ${samplingText(answer)}` }] };
  });
  server.registerTool('test_input_required_result_list_roots', { description: 'Asks for the client roots, then lists them', inputSchema: z.object({}) }, async (_args, ctx) => {
    const roots = (ctx.mcpReq.inputResponses?.client_roots as { roots?: { uri?: string }[] } | undefined)?.roots;
    if (!Array.isArray(roots)) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return { content: [{ type: 'text', text: `Roots: ${roots.map((r) => r.uri).join(', ')}` }] };
  });
  server.registerTool('test_input_required_result_request_state', { description: 'Round-trips requestState', inputSchema: z.object({}) }, async (_args, ctx) => {
    const state = ctx.mcpReq.requestState<{ round: number }>();
    const ok = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
    if (state?.round !== 1 || ok === undefined) {
      return inputRequired({
        inputRequests: { confirm: inputRequired.elicit({ message: 'Please confirm', requestedSchema: ELICIT.confirm as never }) },
        requestState: await codec.mint({ round: 1 }),
      });
    }
    return { content: [{ type: 'text', text: `state-ok: confirmed ${JSON.stringify(ok)}` }] };
  });
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Asks for three inputs at once', inputSchema: z.object({}) }, async (_args, ctx) => {
    const responses = ctx.mcpReq.inputResponses ?? {};
    const state = ctx.mcpReq.requestState<{ round: number }>();
    if (state?.round !== 1 || !['user_name', 'greeting', 'client_roots'].every((k) => k in responses)) {
      return inputRequired({
        inputRequests: {
          user_name: nameRequest(),
          greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await codec.mint({ round: 1 }),
      });
    }
    const name = acceptedContent(responses, 'user_name')?.name;
    return { content: [{ type: 'text', text: `All inputs received: name=${String(name)}, greeting=${samplingText(responses.greeting)}` }] };
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'Asks twice, keeping state', inputSchema: z.object({}) }, async (_args, ctx) => {
    const round = ctx.mcpReq.requestState<{ round: number }>()?.round ?? 0;
    const name = acceptedContent(ctx.mcpReq.inputResponses, 'step1')?.name;
    const color = acceptedContent(ctx.mcpReq.inputResponses, 'step2')?.color;
    if (round === 1 && typeof name === 'string') {
      return inputRequired({
        inputRequests: { step2: inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: ELICIT.color as never }) },
        requestState: await codec.mint({ round: 2 }),
      });
    }
    if (round === 2 && typeof color === 'string') return { content: [{ type: 'text', text: `Done after two rounds: color=${color}` }] };
    return inputRequired({ inputRequests: { step1: nameRequest('Step 1: What is your name?') }, requestState: await codec.mint({ round: 1 }) });
  });
  server.registerTool('test_input_required_result_tampered_state', { description: 'Signs its requestState', inputSchema: z.object({}) }, async (_args, ctx) => {
    if (ctx.mcpReq.requestState<{ round: number }>()?.round === 1 && acceptedContent(ctx.mcpReq.inputResponses, 'user_name')) {
      return { content: [{ type: 'text', text: 'state verified' }] };
    }
    return inputRequired({ inputRequests: { user_name: nameRequest() }, requestState: await codec.mint({ round: 1 }) });
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'Asks only for what the client supports', inputSchema: z.object({}) }, async (_args, ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    if (responses && Object.keys(responses).length > 0) return { content: [{ type: 'text', text: `Received: ${Object.keys(responses).join(', ')}` }] };
    const caps = clientCapabilities(server, ctx);
    const inputRequests: Record<string, ReturnType<typeof inputRequired.listRoots>> = {};
    if (caps.elicitation) inputRequests.user_name = nameRequest();
    if (caps.sampling) inputRequests.greeting = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 });
    if (caps.roots) inputRequests.client_roots = inputRequired.listRoots();
    if (Object.keys(inputRequests).length === 0) return { content: [{ type: 'text', text: 'The client declared no input capability' }] };
    return inputRequired({ inputRequests });
  });

  // server-stateless diagnostics.
  // Asks for sampling: the SDK answers -32021 (with data.requiredCapabilities) when the request did not
  // declare it, because a thrown error in a tool would become an isError result instead.
  server.registerTool('test_missing_capability', { description: 'Needs the sampling capability', inputSchema: z.object({}) }, async (_args, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.sample;
    if (answer === undefined) {
      return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 }) } });
    }
    return { content: [{ type: 'text', text: `sampling said: ${samplingText(answer)}` }] };
  });
  server.registerTool('test_streaming_elicitation', { description: 'Asks for input (input_required, never a request on the stream)', inputSchema: z.object({}) }, async (_args, ctx) => {
    const name = acceptedContent(ctx.mcpReq.inputResponses, 'user_name')?.name;
    if (typeof name !== 'string') return inputRequired({ inputRequests: { user_name: nameRequest() } });
    return { content: [{ type: 'text', text: `Hello, ${name}!` }] };
  });
  const extraTool = server.registerTool('test_toggled_tool', { description: 'Appears and disappears (list-changed diagnostics)', inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'toggled' }],
  }));
  server.registerTool('test_trigger_tool_change', { description: 'Changes the tool list', inputSchema: z.object({}) }, async () => {
    if (extraTool.enabled) extraTool.disable();
    else extraTool.enable();
    notifier.toolsChanged(server);
    return { content: [{ type: 'text', text: 'tool list changed' }] };
  });
  const extraPrompt = server.registerPrompt('test_toggled_prompt', { description: 'Appears and disappears (list-changed diagnostics)' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'toggled' } }],
  }));
  server.registerTool('test_trigger_prompt_change', { description: 'Changes the prompt list', inputSchema: z.object({}) }, async () => {
    if (extraPrompt.enabled) extraPrompt.disable();
    else extraPrompt.enable();
    notifier.promptsChanged(server);
    return { content: [{ type: 'text', text: 'prompt list changed' }] };
  });

  // Resources.
  for (const r of STATIC_RESOURCES) {
    server.registerResource(r.name, r.uri, { description: r.description, mimeType: r.mimeType }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: r.mimeType, ...r.content }] }));
  }
  const template = TEMPLATE_RESOURCE;
  server.registerResource(
    template.name,
    new ResourceTemplate(template.uriTemplate, { list: undefined }),
    { description: template.description, mimeType: template.mimeType },
    async (uri, { id }) => {
      if (typeof id !== 'string') throw new ResourceNotFoundError(uri.href);
      return { contents: [{ uri: uri.href, mimeType: template.mimeType, text: templateText(id) }] };
    },
  );
  const subscriptions = new Set<string>();
  if (server.server.getCapabilities?.().resources?.subscribe) {
    server.server.setRequestHandler('resources/subscribe', async (request) => {
      subscriptions.add(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      subscriptions.delete(request.params.uri);
      return {};
    });
  }

  // Prompts.
  for (const p of PROMPTS) {
    const messages = (args: Record<string, unknown>) => ({ messages: p.messages(args as Record<string, string>) });
    if (!p.args) server.registerPrompt(p.name, { description: p.description }, () => messages({}));
    else server.registerPrompt(p.name, { description: p.description, argsSchema: z.object(promptArgsShape(p.args, (schema) => completable(schema, (value) => complete(value)))) }, messages);
  }
  server.registerPrompt('test_input_required_result_prompt', { description: 'Asks for context first (input_required)' }, (ctx) => {
    const context = acceptedContent(ctx.mcpReq.inputResponses, 'user_context')?.context;
    if (typeof context !== 'string') {
      return inputRequired({
        inputRequests: { user_context: inputRequired.elicit({ message: 'What context should the prompt use?', requestedSchema: ELICIT.context as never }) },
      });
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${context}` } }] };
  });
  return server;
}

const mode = process.argv[2];
if (mode === 'stdio') {
  // On stdio the connection's own instance announces list changes; serveStdio delivers them to listeners.
  serveStdio(() =>
    buildServer({
      toolsChanged: (server) => server.sendToolListChanged(),
      promptsChanged: (server) => server.sendPromptListChanged(),
    }),
  );
} else {
  const port = Number(process.env.PORT ?? 0);
  // 2026-07-28: one fresh instance per request; change events go through the handler's bus.
  const holder: { notify?: { toolsChanged(): void; promptsChanged(): void } } = {};
  const modern = createMcpHandler(
    () =>
      buildServer({
        toolsChanged: () => holder.notify?.toolsChanged(),
        promptsChanged: () => holder.notify?.promptsChanged(),
      }),
    { legacy: 'reject' },
  );
  holder.notify = modern.notify;
  // 2025 era: sessionful streamable HTTP, one instance per session, as a 2025-era server serves it.
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const legacy = async (request: Request): Promise<Response> => {
    const id = request.headers.get('mcp-session-id');
    const existing = id ? sessions.get(id) : undefined;
    if (existing) return existing.handleRequest(request);
    if (id) return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }, { status: 404 });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
      onsessionclosed: (sessionId) => void sessions.delete(sessionId),
    });
    const server = buildServer({ toolsChanged: (s) => s.sendToolListChanged(), promptsChanged: (s) => s.sendPromptListChanged() });
    await server.connect(transport);
    return transport.handleRequest(request);
  };
  const node = toNodeHandler({ fetch: async (request) => ((await isLegacyRequest(request)) ? legacy(request) : modern.fetch(request)) });
  serveHttp(port, (req, res) => node(req, res));
}
