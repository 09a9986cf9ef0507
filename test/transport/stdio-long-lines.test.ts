import { afterEach, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { LineSplitter } from '../../src/transport/line-splitter.js';
import { startInProcess, type InProcessWorkload } from '../workloads/in-process.js';
import { STDIO_FIXTURE, connectClient, textOf } from '../workloads/helpers.js';

describe('stdout lines', () => {
  it('a line that never ends is capped: it is dropped, not buffered, and the next line arrives', () => {
    const lines: string[] = [];
    let tooLong = 0;
    const splitter = new LineSplitter((l) => lines.push(l), () => tooLong++, 1024 * 1024);
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 64; i++) splitter.push(chunk); // 4 MiB, no newline
    expect(splitter.bufferedBytes).toBe(0);
    expect(tooLong).toBe(1);
    splitter.push('still the long line\n{"a":1}\n{"b"');
    splitter.push(':2}\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('a line split over many chunks is joined once', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), () => undefined);
    const piece = 'y'.repeat(1000);
    for (let i = 0; i < 1000; i++) splitter.push(piece);
    expect(splitter.bufferedBytes).toBe(1_000_000);
    splitter.push('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(1_000_000);
  });
});

describe('a stdio server that prints a huge line', () => {
  let workload: InProcessWorkload | undefined;
  afterEach(async () => {
    await workload?.close();
    workload = undefined;
  });

  it('has the line dropped with a warning and keeps serving', async () => {
    // 17 MiB without a newline (over the 16 MiB cap), then the normal MCP server.
    const script = `process.stdout.write('x'.repeat(17 * 1024 * 1024), () => process.stdout.write('\\n', () => import(${JSON.stringify(pathToFileURL(STDIO_FIXTURE).href)})));`;
    workload = await startInProcess({ name: 'huge-line', command: process.execPath, args: ['-e', script] });
    const client = await connectClient(workload.url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after the huge line' } }))).toBe('after the huge line');
    await client.close();
    expect(workload.logs.join('\n')).toContain('dropped a line on the MCP server stdout that is longer than the limit');
    expect(workload.logs.join('\n')).not.toContain('ignored a non-JSON line');
  });
});
