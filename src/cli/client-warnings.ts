import type { ClientChangeReport } from '../clients/service.js';

// What registered AI clients' config files could not follow (docs/clients.md): warnings on stderr,
// never a failed command. Shared by `thv client …` and the workload commands (through the context).

export function warnClientReport(ctx: { err(text: string): void }, report: ClientChangeReport): void {
  for (const line of warningLines(report)) ctx.err(`Warning: ${line}\n`);
}

function warningLines(report: ClientChangeReport): string[] {
  const lines: string[] = [];
  for (const change of report.changes) {
    if (change.outcome === 'foreign') lines.push(`${change.file} already has an entry "${change.workload}" that thv did not write; left unchanged`);
    if (change.outcome === 'unsupported') lines.push(`${change.client} cannot reach workload "${change.workload}" (it has no streamable-HTTP endpoint); not added`);
  }
  for (const p of report.problems) lines.push(`${p.message}${p.hint ? ` ${p.hint}` : ''}`);
  return lines;
}

