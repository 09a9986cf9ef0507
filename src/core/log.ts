import { createRequire } from 'node:module';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { envLogLevel, setInvalidEnvReporter, type Env, type InvalidEnvValue } from './env.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** The logging surface thv code uses; backed by pino, which is loaded only when a line is written. */
export interface Logger {
  readonly level: LogLevel;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Field names whose values are never written, whatever object they appear in. */
const SECRET_KEYS = [
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'id_token', 'idToken',
  'code', 'code_verifier', 'codeVerifier', 'verifier', 'password', 'secret', 'client_secret',
  'clientSecret', 'authorization', 'Authorization', 'cookie', 'value',
];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'req.headers.authorization', 'req.headers.cookie'];
const RANK: Record<LogLevel | 'fatal', number> = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

type PinoModule = typeof import('pino');
let pinoModule: PinoModule | undefined;
/** pino costs ~20 ms to load; a CLI run that logs nothing at its level never pays it. */
function loadPino(): PinoModule {
  pinoModule ??= createRequire(import.meta.url)('pino') as PinoModule;
  return pinoModule;
}

/** Renders pino's JSON lines as `level: message key=value` for people reading a terminal or log. */
function humanLines(write: (line: string) => void, labels: Record<number, string>): DestinationStream {
  return {
    write(chunk: string) {
      try {
        const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = JSON.parse(chunk) as Record<string, unknown>;
        const fields = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        write(`${labels[level as number] ?? 'log'}: ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`);
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

class LazyLogger implements Logger {
  private real: PinoLogger | undefined;

  constructor(
    readonly level: LogLevel,
    private readonly make: () => PinoLogger,
  ) {}

  debug(obj: object | string, msg?: string) {
    this.emit('debug', obj, msg);
  }
  info(obj: object | string, msg?: string) {
    this.emit('info', obj, msg);
  }
  warn(obj: object | string, msg?: string) {
    this.emit('warn', obj, msg);
  }
  error(obj: object | string, msg?: string) {
    this.emit('error', obj, msg);
  }
  fatal(obj: object | string, msg?: string) {
    this.emit('fatal', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new LazyLogger(this.level, () => this.pino().child(bindings));
  }

  private pino(): PinoLogger {
    this.real ??= this.make();
    return this.real;
  }

  private emit(level: Exclude<LogLevel, 'silent'> | 'fatal', obj: object | string, msg?: string) {
    if (RANK[level] < RANK[this.level]) return;
    if (typeof obj === 'string') this.pino()[level](obj);
    else this.pino()[level](obj, msg);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'warn';
  return new LazyLogger(level, () => {
    const { pino } = loadPino();
    const write = options.write ?? ((line: string) => void process.stderr.write(line));
    const dest: DestinationStream = options.format === 'json' ? { write } : humanLines(write, pino.levels.labels);
    return pino({ level, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }, base: undefined }, dest);
  });
}

let current: Logger | undefined;

/** The process-wide logger; the CLI sets its level from --debug before any command runs. */
export function log(): Logger {
  if (!current) {
    // An invalid TOOLHIVE_DEBUG or TOOLHIVE_LOG_LEVEL is reported once the logger exists.
    const invalid: Array<{ name: string; given: string; expected: string }> = [];
    current = createLogger({ level: levelFromEnv(process.env, (name, given, expected) => void invalid.push({ name, given, expected })) });
    for (const fields of invalid) current.warn(fields, 'ignoring an invalid environment variable');
  }
  return current;
}

setInvalidEnvReporter((name, given, expected) => log().warn({ name, given, expected }, 'ignoring an invalid environment variable'));

export function setLogger(logger: Logger): void {
  current = logger;
}

/** TOOLHIVE_DEBUG/THV_DEBUG, else TOOLHIVE_LOG_LEVEL, else `warn` (src/core/env.ts). */
export function levelFromEnv(env: Env, onInvalid?: InvalidEnvValue): LogLevel {
  return envLogLevel(env, onInvalid);
}
