import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Field names whose values are never written, whatever object they appear in. */
const SECRET_KEYS = [
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'id_token', 'idToken',
  'code', 'code_verifier', 'codeVerifier', 'verifier', 'password', 'secret', 'client_secret',
  'clientSecret', 'authorization', 'Authorization', 'cookie', 'value',
];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'req.headers.authorization', 'req.headers.cookie'];

/** Renders pino's JSON lines as `level: message key=value` for people reading a terminal or log. */
function humanLines(write: (line: string) => void): DestinationStream {
  return {
    write(chunk: string) {
      try {
        const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = JSON.parse(chunk) as Record<string, unknown>;
        const name = pino.levels.labels[level as number] ?? 'log';
        const fields = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        write(`${name}: ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`);
      } catch {
        write(chunk);
      }
    },
  };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** `text` for people (the CLI), `json` for machines (the supervisor's log file, the API). */
  format?: 'text' | 'json';
  /** Where lines go; stderr by default, because stdout belongs to command output and MCP framing. */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const dest: DestinationStream = options.format === 'json' ? { write } : humanLines(write);
  return pino(
    {
      level: options.level ?? 'warn',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      base: undefined,
    },
    dest,
  );
}

let current: Logger | undefined;

/** The process-wide logger; the CLI sets its level from --debug before any command runs. */
export function log(): Logger {
  current ??= createLogger({ level: levelFromEnv(process.env) });
  return current;
}

export function setLogger(logger: Logger): void {
  current = logger;
}

export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  if (env.TOOLHIVE_DEBUG === '1' || env.TOOLHIVE_DEBUG === 'true' || env.THV_DEBUG === '1') return 'debug';
  const level = env.TOOLHIVE_LOG_LEVEL as LogLevel | undefined;
  return level && ['debug', 'info', 'warn', 'error', 'silent'].includes(level) ? level : 'warn';
}
