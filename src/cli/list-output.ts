import type { WorkloadInfo } from '../workloads/types.js';
import type { OutputFormat } from './options.js';
import { renderJson, renderTable } from './output.js';

/** What `thv list` prints; shared by the command and the start-up fast path (docs/architecture.md#start-up). */
export function renderWorkloadList(list: WorkloadInfo[], opts: { all: boolean; format: OutputFormat }, columns: number): string {
  if (opts.format === 'json') return renderJson(list);
  if (list.length === 0) return opts.all ? 'No MCP servers found\n' : 'No MCP servers running (use --all to see stopped ones)\n';
  return renderTable(
    ['NAME', 'PACKAGE', 'STATUS', 'URL', 'PORT', 'GROUP', 'DETAILS'],
    list.map((w) => [w.name, w.package, w.status, w.url, String(w.port), w.group, w.status_context]),
    columns,
  );
}
