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
  if (!rest.startsWith('/') && !rest.startsWith('volume://')) throw badRequest(`--volume ${flag}: the host path must be absolute`, 'Use --volume /host/path:/path/inside[:ro] or volume://<name>:/path/inside[:ro].');
  return { declaration: rest, writable: !readOnly };
}

/**
 * The `-file` forms of the credential flags (docs/remote-auth.md#credentials-on-the-command-line):
 * `-` reads standard input, which only one flag can use. Returns the text, or throws a usage error.
 */
export interface CredentialFileReader {
  /** Reads a named file as is. */
  readFile(path: string): Promise<string>;
  /** Reads standard input to its end. */
  readStdin(): Promise<string>;
}

export const STDIN = '-';

/** Reads each credential file once; a second `-` is refused because stdin is already consumed. */
export function credentialFiles(reader: CredentialFileReader): (flag: string, path: string) => Promise<string> {
  let stdinBy: string | undefined;
  return async (flag, path) => {
    if (path === STDIN) {
      if (stdinBy) throw badRequest(`${flag} - and ${stdinBy} - both read standard input`, 'Give at most one credential on stdin; put the others in files.');
      stdinBy = flag;
      return reader.readStdin();
    }
    try {
      return await reader.readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw badRequest(`cannot read ${flag} ${path}${code ? ` (${code})` : ''}`, 'Give a readable file, or - for standard input.');
    }
  };
}

/** A token or secret read from a file or stdin: the surrounding whitespace (the final newline) is not part of it. */
export function credentialText(flag: string, text: string): string {
  const value = text.trim();
  if (!value) throw badRequest(`${flag} gave an empty value`, 'The file (or stdin) must hold the credential.');
  return value;
}

/** `--remote-header-file`: one `Name: value` per line; blank lines are skipped. */
export function parseHeaderFile(text: string): Record<string, string> {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) throw badRequest('a --remote-header-file holds no header', 'Write one "Name: value" per line.');
  // parseHeaderFlags never echoes a line: its value may be a credential.
  return parseHeaderFlags(lines.map((line) => line.trim()));
}
