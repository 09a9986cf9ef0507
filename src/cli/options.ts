import { InvalidArgumentError, Option } from 'commander';
import { NAME_PATTERN } from '../workloads/types.js';

// Option parsers shared by every command, so the same flag accepts the same values and refuses a bad
// one with the same message and exit code 2 (a usage error, before the command does anything).

export type OutputFormat = 'text' | 'json';

/** `--format text|json`, default text. */
export function formatOption(): Option {
  return new Option('--format <format>', 'output format: text or json')
    .default('text')
    .argParser((value: string): OutputFormat => {
      if (value !== 'text' && value !== 'json') throw new InvalidArgumentError('Use --format text or --format json.');
      return value;
    });
}

/** A port number; `allowZero` where 0 means "pick a free one". */
export function parsePort(value: string, options: { allowZero?: boolean } = {}): number {
  const min = options.allowZero ? 0 : 1;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < min || port > 65535) throw new InvalidArgumentError(`Expected a port number from ${min} to 65535.`);
  return port;
}

export function portOption(flags: string, description: string, options: { allowZero?: boolean; default?: number } = {}): Option {
  const option = new Option(flags, description).argParser((value: string) => parsePort(value, options));
  return options.default !== undefined ? option.default(options.default) : option;
}

/** A group name (letters, digits, ".", "_", "-"). */
export function groupOption(flags: string, description: string, defaultValue?: string): Option {
  const option = new Option(flags, description).argParser((value: string) => {
    if (!NAME_PATTERN.test(value)) throw new InvalidArgumentError('Use up to 63 letters, digits, ".", "_" and "-", starting with a letter or digit.');
    return value;
  });
  return defaultValue !== undefined ? option.default(defaultValue) : option;
}

/** OAuth scopes, separated by commas or spaces. */
export function parseScopes(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

export function scopesOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(parseScopes);
}
