import { describeStreamableHttp } from './streamable-http-behaviour.js';
import { startInProcess } from '../workloads/in-process.js';
import { startMcpHttpServer } from '../fixtures/mcp-http-server.mjs';

describeStreamableHttp('the stdio bridge', async () => {
  const workload = await startInProcess({ name: 'bridge' });
  return { url: workload.url, close: () => workload.close() };
});

describeStreamableHttp('the remote proxy', async () => {
  const upstream = await startMcpHttpServer();
  const workload = await startInProcess({ name: 'proxy', remote_url: upstream.url, transport: 'streamable-http' });
  return {
    url: workload.url,
    close: async () => {
      await workload.close();
      await upstream.close();
    },
  };
});

describeStreamableHttp('the SDK server itself (the reference)', async () => {
  const upstream = await startMcpHttpServer();
  return { url: upstream.url, close: () => upstream.close() };
});
