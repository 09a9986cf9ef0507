#!/usr/bin/env node
// The floor of the bridge benchmark (bench/workloads.mjs): the least an HTTP-to-stdio bridge can do — a
// bare node:http server that writes each JSON-RPC body as a line to an MCP server's stdin and answers
// with the line that carries the same id. No sessions, no validation, no limits. It runs in its own
// process, as a bridge does, so its HTTP hop crosses processes like the bridge's.
//
//   node bench/floor-server.mjs <stdio-server.mjs>    prints its URL on stdout
import { spawn } from 'node:child_process';
import http from 'node:http';

const child = spawn(process.execPath, [process.argv[2]], { stdio: ['pipe', 'pipe', 'ignore'] });
const waiting = new Map();
let buffer = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\n')) !== -1) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    const id = JSON.parse(line).id;
    waiting.get(id)?.(line);
    waiting.delete(id);
  }
});
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = JSON.parse(body).id;
    if (id === undefined) {
      child.stdin.write(`${body}\n`);
      res.writeHead(202).end();
      return;
    }
    waiting.set(id, (line) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(line) }).end(line));
    child.stdin.write(`${body}\n`);
  });
});
server.keepAliveTimeout = 65_000;
const stop = () => {
  child.kill();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('exit', () => process.exit(1));
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}/mcp\n`));
