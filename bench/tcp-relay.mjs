#!/usr/bin/env node
// The least a proxy process can add, for bench/workloads.mjs: one more process between client and
// server that copies bytes both ways and understands nothing (no HTTP parsing, no headers changed).
// What any HTTP proxy adds over calling the server directly includes at least this.
//
//   node bench/tcp-relay.mjs <target-url>    prints its URL (with the target's path) on stdout
import net from 'node:net';

const target = new URL(process.argv[2]);
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
process.on('SIGTERM', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}${target.pathname}\n`));
