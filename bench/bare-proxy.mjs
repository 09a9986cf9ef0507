#!/usr/bin/env node
// A reference for the remote proxy in bench/workloads.mjs: the least an HTTP reverse proxy written with
// node:http does — buffer the request, forward it on a kept-alive connection, relay the answer. No
// guard, no limits, no credentials. What thv's proxy adds over calling the server directly cannot go
// much below what this adds, measured in the same run.
//
//   node bench/bare-proxy.mjs <target-url>    prints its URL on stdout
import http from 'node:http';

const target = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers, host: target.host, 'content-length': body.length };
    const upstream = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      const { 'transfer-encoding': _chunked, connection: _connection, ...rest } = upRes.headers;
      res.writeHead(upRes.statusCode ?? 502, rest);
      upRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  });
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}${target.pathname}\n`));
