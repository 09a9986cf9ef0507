import { spawn } from 'node:child_process';
import { log } from '../core/log.js';
import { envText, isThvCredentialVar } from '../core/env.js';

/** Shows a URL to the user in a browser. Swappable so tests and headless callers never open one. */
export type UrlOpener = (url: string) => Promise<void>;

/**
 * `BROWSER`, when set, is a program run with the URL as its only argument (no shell, so the URL is
 * never interpreted); otherwise the platform's opener. A missing opener is not fatal: the caller
 * always prints the URL too.
 */
export function systemOpener(env: NodeJS.ProcessEnv): UrlOpener {
  return async (url) => {
    const [command, args] = openerCommand(env, url);
    await new Promise<void>((resolve) => {
      const child = spawn(command, args, { stdio: 'ignore', detached: true, env: withoutThvSecrets(env) });
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
      child.once('error', (err) => {
        log().warn({ opener: command, error: (err as NodeJS.ErrnoException).code ?? err.message }, 'could not open a browser; open the URL shown above');
        resolve();
      });
    });
  };
}

/**
 * Why no browser may be opened from this environment (docs/remote-auth.md#headless-machines), or
 * undefined: CI, or a Linux/BSD session without a desktop (neither DISPLAY nor WAYLAND_DISPLAY).
 * Whether a person is at a terminal is the caller's check: only the process a person started knows.
 */
export function headlessReason(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  const ci = envText(env, 'CI');
  if (ci !== undefined && !/^\s*(0|false|no|off)\s*$/i.test(ci)) return 'CI is set';
  if (platform !== 'darwin' && platform !== 'win32' && !envText(env, 'DISPLAY') && !envText(env, 'WAYLAND_DISPLAY')) return 'no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return undefined;
}

/**
 * A browser needs the desktop's environment (DISPLAY, DBUS_…, XDG_…), but never thv's own
 * credentials: the secrets password, registry bearer tokens and `TOOLHIVE_SECRET_*` values.
 */
export function withoutThvSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (isThvCredentialVar(name)) continue;
    out[name] = value;
  }
  return out;
}

function openerCommand(env: NodeJS.ProcessEnv, url: string): [string, string[]] {
  const browser = envText(env, 'BROWSER');
  if (browser) return [browser, [url]];
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  return ['xdg-open', [url]];
}
