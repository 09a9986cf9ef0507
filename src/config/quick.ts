/**
 * The registry settings of a config.yaml as thv writes it (plain `key: value` lines, the `secrets`
 * and `clients` blocks), read without the YAML parser and the schema for the start-up fast path
 * (docs/architecture.md#start-up). Anything this reader is not certain the full reader would accept
 * exactly so — quotes, comments, flow style, unknown keys, registry_auth, a value of the wrong type —
 * gives undefined, and the caller takes the full path, which parses, validates and reports.
 */
export interface QuickRegistrySettings {
  registry_url?: string;
  registry_api_url?: string;
  local_registry_path?: string;
}

const STRING_KEYS = new Set(['registry_url', 'registry_api_url', 'local_registry_path']);
const BLOCKS: Record<string, RegExp> = {
  secrets: /^ {2}(?:provider_type: (?:encrypted|environment|"")|setup_completed: (?:true|false))$/,
  clients: /^(?: {2}registered_clients:(?: \[\])?| {4}- [A-Za-z0-9][A-Za-z0-9._-]*)$/,
};
/** A YAML plain scalar that can only be a string: no indicator first, no `: ` or ` #`, not a number/bool/null. */
const PLAIN = /^[A-Za-z0-9/._~+=$()][^\s#'"]*$/;
const NOT_A_STRING = /^(?:[-+]?(?:\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+|0x[\da-f]+|0o[0-7]+|\.inf|\.nan)|true|false|yes|no|on|off|null|~)$/i;

export function quickRegistrySettings(text: string): QuickRegistrySettings | undefined {
  if (/[\r\t]/.test(text)) return undefined;
  const settings: QuickRegistrySettings = {};
  const seen = new Set<string>();
  let block: RegExp | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(' ')) {
      if (!block?.test(line)) return undefined;
      continue;
    }
    const match = /^([a-z_]+):(?: (.*))?$/.exec(line);
    if (!match || seen.has(match[1]!)) return undefined;
    const [, key, value] = match as unknown as [string, string, string | undefined];
    seen.add(key);
    block = undefined;
    if (key in BLOCKS) {
      if (value !== undefined) return undefined;
      block = BLOCKS[key];
    } else if (key === 'allow_private_registry_ip') {
      if (value !== 'true' && value !== 'false') return undefined;
    } else if (STRING_KEYS.has(key)) {
      if (value === undefined || !PLAIN.test(value) || value.endsWith(':') || NOT_A_STRING.test(value)) return undefined;
      settings[key as keyof QuickRegistrySettings] = value;
    } else {
      return undefined;
    }
  }
  return settings;
}
