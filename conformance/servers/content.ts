// What the conformance servers answer: the texts, media and schemas each scenario of the official MCP
// conformance server suite asks for (written from the scenarios' own requirement texts), shared by the
// v1-SDK server (v1.ts) and the v2-SDK server (v2.ts) so both expose the same surface.
// See docs/workloads.md#conformance.
import * as z from 'zod/v4';

/** A 1×1 red PNG (built once with zlib: IHDR 1×1 RGB, one scanline `00 ff 00 00`). */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** A valid WAV file: 8 kHz, 8-bit mono, eight samples of silence. */
export const WAV_BASE64 = (() => {
  const samples = Buffer.alloc(8, 0x80);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]).toString('base64');
})();

export const TEXT = {
  simple: 'This is a simple text response for testing.',
  embeddedResource: 'This is an embedded resource content.',
  error: 'This tool intentionally returns an error for testing',
  staticText: 'This is the content of the static text resource.',
  watched: 'A resource clients may subscribe to.',
  simplePrompt: 'This is a simple prompt for testing.',
  promptEmbedded: 'Embedded resource content for testing.',
} as const;

export const LOG_LINES = ['Tool execution started', 'Tool processing data', 'Tool execution completed'] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Content =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string }
  | { type: 'resource'; resource: { uri: string; mimeType: string; text: string } };

/** Tool results that need nothing from the client, by tool name. */
export const PLAIN_TOOLS: Record<string, { description: string; content: () => Content[]; isError?: boolean }> = {
  test_simple_text: { description: 'Returns one text block', content: () => [{ type: 'text', text: TEXT.simple }] },
  test_image_content: { description: 'Returns a PNG image', content: () => [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }] },
  test_audio_content: { description: 'Returns a WAV clip', content: () => [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }] },
  test_embedded_resource: {
    description: 'Returns an embedded text resource',
    content: () => [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: TEXT.embeddedResource } }],
  },
  test_multiple_content_types: {
    description: 'Returns text, an image and an embedded resource',
    content: () => [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
    ],
  },
  test_error_handling: { description: 'Always fails (isError result)', content: () => [{ type: 'text', text: TEXT.error }], isError: true },
};

/** The elicitation schemas of tools-call-elicitation, SEP-1034 (defaults) and SEP-1330 (enums). */
export const ELICIT = {
  userInfo: {
    type: 'object',
    properties: {
      username: { type: 'string', description: "User's response" },
      email: { type: 'string', description: "User's email address" },
    },
    required: ['username', 'email'],
  },
  defaults: {
    type: 'object',
    properties: {
      name: { type: 'string', default: 'John Doe' },
      age: { type: 'integer', default: 30 },
      score: { type: 'number', default: 95.5 },
      status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
      verified: { type: 'boolean', default: true },
    },
  },
  enums: {
    type: 'object',
    properties: {
      untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
      titledSingle: {
        type: 'string',
        oneOf: [
          { const: 'value1', title: 'First Option' },
          { const: 'value2', title: 'Second Option' },
          { const: 'value3', title: 'Third Option' },
        ],
      },
      legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
      untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
      titledMulti: {
        type: 'array',
        items: {
          anyOf: [
            { const: 'value1', title: 'First Choice' },
            { const: 'value2', title: 'Second Choice' },
            { const: 'value3', title: 'Third Choice' },
          ],
        },
      },
    },
  },
  name: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  confirm: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  color: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
  context: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
} as const;

export const templateText = (id: string) => JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` });

export const COMPLETIONS = ['paris', 'park', 'party', 'test', 'testing'];
export const complete = (value: string) => COMPLETIONS.filter((c) => c.startsWith(value));

/** An input schema using JSON Schema 2020-12 keywords that must reach clients unchanged (SEP-1613, SEP-2106). */
export const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

/** The elicitation tools of tools-call-elicitation, SEP-1034 and SEP-1330: what each asks, and how it labels the answer. */
export const ELICIT_TOOLS: { name: string; description: string; message: (args: { message?: string }) => string; schema: object; label: string }[] = [
  { name: 'test_elicitation', description: 'Asks the user for a name and an email', message: (a) => a.message ?? 'Please provide your information', schema: ELICIT.userInfo, label: 'User response' },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation with defaults (SEP-1034)', message: () => 'Please review the defaults', schema: ELICIT.defaults, label: 'Elicitation completed' },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with enum variants (SEP-1330)', message: () => 'Please choose', schema: ELICIT.enums, label: 'Elicitation completed' },
];

/** The fixed resources, in the order they are listed. */
export const STATIC_RESOURCES: { name: string; uri: string; description: string; mimeType: string; content: { text: string } | { blob: string } }[] = [
  { name: 'static-text', uri: 'test://static-text', description: 'A static text resource', mimeType: 'text/plain', content: { text: TEXT.staticText } },
  { name: 'static-binary', uri: 'test://static-binary', description: 'A static PNG', mimeType: 'image/png', content: { blob: PNG_BASE64 } },
  { name: 'watched-resource', uri: 'test://watched-resource', description: 'A resource to subscribe to', mimeType: 'text/plain', content: { text: TEXT.watched } },
];

/** The templated resource (its contents: `templateText(id)`). */
export const TEMPLATE_RESOURCE = { name: 'template-data', uriTemplate: 'test://template/{id}/data', description: 'Data for an id', mimeType: 'application/json' } as const;

type PromptMessage = { role: 'user'; content: Exclude<Content, { type: 'audio' }> };

/**
 * The prompts both servers list, in order: their string arguments (`complete`: values offered by
 * `complete()`) and the messages they return.
 */
export const PROMPTS: { name: string; description: string; args?: Record<string, { description: string; complete?: true }>; messages: (args: Record<string, string>) => PromptMessage[] }[] = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments', messages: () => [{ role: 'user', content: { type: 'text', text: TEXT.simplePrompt } }] },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two arguments',
    args: { arg1: { description: 'First test argument', complete: true }, arg2: { description: 'Second test argument' } },
    messages: ({ arg1, arg2 }) => [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt embedding a resource',
    args: { resourceUri: { description: 'URI of the resource to embed' } },
    messages: ({ resourceUri }) => [
      { role: 'user', content: { type: 'resource', resource: { uri: resourceUri!, mimeType: 'text/plain', text: TEXT.promptEmbedded } } },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
    ],
  },
  {
    name: 'test_prompt_with_image',
    description: 'A prompt with an image',
    messages: () => [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  },
];

/** A prompt's arguments as a zod shape: strings with their descriptions, `completing` the ones with completions. */
export function promptArgsShape(args: Record<string, { description: string; complete?: true }>, completing: (schema: z.ZodString) => z.ZodType): Record<string, z.ZodType> {
  return Object.fromEntries(
    Object.entries(args).map(([name, arg]) => {
      const schema = z.string().describe(arg.description);
      return [name, arg.complete ? completing(schema) : schema];
    }),
  );
}
