import { badRequest } from '../core/errors.js';
import type { SecretRef } from '../workloads/run-request.js';

// Flag syntax of `thv run`, parsed here only: the workload service takes typed input
// (docs/architecture.md, "Services and the composition root").

/** `-e K=V` entries; the value may contain `=`. */
export function parseEnvFlags(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw badRequest(`"${entry}" is not an environment variable assignment`, 'Use -e NAME=value.');
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** `--secret NAME,target=ENV`. */
export function parseSecretFlag(entry: string): SecretRef {
  const match = /^([^,]+),target=([A-Za-z_][A-Za-z0-9_]*)$/.exec(entry);
  if (!match) throw badRequest(`"${entry}" is not a secret reference`, 'Use --secret NAME,target=ENV_VAR.');
  return { name: match[1]!, target: match[2]! };
}

/** `--remote-header 'Name: value'` (or `Name=value`); whether Node can send it is the service's check. */
export function parseHeaderFlags(entries: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([^\s:=]+)\s*[:=]\s*(.*)$/s.exec(entry);
    // The entry itself is not echoed: its value may be a credential.
    if (!match) throw badRequest('a --remote-header is not "Name: value"', 'Use --remote-header "Name: value".');
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

/** ToolHive's `--volume host:container[:ro]`: a mount declaration and whether it is writable. */
export function parseVolumeFlag(flag: string): { declaration: string; writable: boolean } {
  const readOnly = flag.endsWith(':ro');
  const rest = readOnly || flag.endsWith(':rw') ? flag.slice(0, -3) : flag;
  if (!rest.startsWith('/')) throw badRequest(`--volume ${flag}: the host path must be absolute`, 'Use --volume /host/path:/path/inside[:ro].');
  return { declaration: rest, writable: !readOnly };
}
