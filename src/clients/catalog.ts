import { posix, win32 } from 'node:path';
import { envText } from '../core/env.js';

/**
 * The AI clients thv can register servers with: where each keeps its MCP servers and the entry it
 * expects. Facts and the reasons behind each choice: docs/clients.md.
 */

export type ClientPlatform = 'linux' | 'darwin' | 'win32';

/** Where a client's files are looked up; every field is injectable so tests cover all three layouts. */
export interface ClientEnvironment {
  platform: ClientPlatform;
  home: string;
  env: Record<string, string | undefined>;
  /** Path flavour; defaults to the platform's. Tests of the Windows layout on Linux pass posix. */
  path?: typeof posix;
}

/** What a client needs to know about a running workload to reach it. */
export interface ClientWorkload {
  name: string;
  /** The URL thv prints for the workload. */
  url: string;
  transport: 'sse' | 'streamable-http';
  /** A streamable-HTTP URL served as well (stdio workloads serve both), for clients without SSE. */
  streamableUrl?: string;
}

export type ConfigFormat = 'json' | 'yaml-map' | 'yaml-array' | 'toml';

/** A client's entry: written under `pointer` + name, or undefined when the client cannot reach it. */
export type EntryBuilder = (workload: ClientWorkload, ctx: { thvCommand: string[] }) => Record<string, unknown> | undefined;

export interface ClientDefinition {
  id: string;
  displayName: string;
  format: ConfigFormat;
  /** Keys from the top of the file to the servers map (or array); each is one literal key. */
  pointer: string[];
  /** The config files to edit (several for VS Code profiles). */
  files(env: ClientEnvironment): Promise<string[]> | string[];
  /** Installed when any of these exists (ToolHive's rule: the config folder). */
  detect(env: ClientEnvironment): string[];
  entry: EntryBuilder;
  /** Text of a file created from nothing. */
  emptyFile?: string;
  note?: string;
}

function pathOf(env: ClientEnvironment): typeof posix {
  return env.path ?? (env.platform === 'win32' ? win32 : posix);
}

function isAbsoluteFor(env: ClientEnvironment, value: string | undefined): value is string {
  return Boolean(value) && pathOf(env).isAbsolute(value!);
}

/** %APPDATA% on Windows (falls back to the default location under the home folder). */
function appData(env: ClientEnvironment): string {
  const value = envText(env.env, 'APPDATA');
  return isAbsoluteFor(env, value) ? value : pathOf(env).join(env.home, 'AppData', 'Roaming');
}

function localAppData(env: ClientEnvironment): string {
  const value = envText(env.env, 'LOCALAPPDATA');
  return isAbsoluteFor(env, value) ? value : pathOf(env).join(env.home, 'AppData', 'Local');
}

/** $XDG_CONFIG_HOME when the client honours it (only absolute values count, as in the XDG spec), else ~/.config. */
function xdgConfig(env: ClientEnvironment): string {
  const value = envText(env.env, 'XDG_CONFIG_HOME');
  return isAbsoluteFor(env, value) ? value : pathOf(env).join(env.home, '.config');
}

/** The folder VS Code and its forks keep per-user data in ("Code", "Code - Insiders", …). */
function editorUserDir(env: ClientEnvironment, product: string): string {
  const p = pathOf(env);
  if (env.platform === 'win32') return p.join(appData(env), product, 'User');
  if (env.platform === 'darwin') return p.join(env.home, 'Library', 'Application Support', product, 'User');
  return p.join(xdgConfig(env), product, 'User');
}

const httpTypeAndUrl: EntryBuilder = (w) => ({ type: w.transport === 'sse' ? 'sse' : 'http', url: w.url });
const urlOnly: EntryBuilder = (w) => ({ url: w.url });
/** For clients that speak streamable HTTP only: the streamable URL, or nothing for an SSE-only workload. */
function streamableOnly(build: (url: string, w: ClientWorkload) => Record<string, unknown>): EntryBuilder {
  return (w) => {
    const url = w.transport === 'streamable-http' ? w.url : w.streamableUrl;
    return url === undefined ? undefined : build(url, w);
  };
}

function homeFile(...segments: string[]): Pick<ClientDefinition, 'files' | 'detect'> {
  return {
    files: (env) => [pathOf(env).join(env.home, ...segments)],
    detect: (env) => [pathOf(env).join(env.home, ...segments.slice(0, -1))],
  };
}

/** VS Code and Insiders: the default profile's mcp.json plus one per existing profile (User/profiles/<id>). */
function vscodeFiles(product: string): Pick<ClientDefinition, 'files' | 'detect'> {
  return {
    files: async (env) => {
      const p = pathOf(env);
      const user = editorUserDir(env, product);
      const { readdir } = await import('node:fs/promises');
      let profiles: string[] = [];
      try {
        const entries = await readdir(p.join(user, 'profiles'), { withFileTypes: true });
        profiles = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
      } catch {
        // No profiles folder: only the default profile exists.
      }
      return [p.join(user, 'mcp.json'), ...profiles.map((id) => p.join(user, 'profiles', id, 'mcp.json'))];
    },
    detect: (env) => [editorUserDir(env, product)],
  };
}

export const CLIENTS: readonly ClientDefinition[] = [
  {
    id: 'claude-code',
    displayName: 'Claude Code',
    format: 'json',
    pointer: ['mcpServers'],
    // Claude Code keeps its user-scope servers in ~/.claude.json, or $CLAUDE_CONFIG_DIR/.claude.json.
    files: (env) => [claudeCodeFile(env)],
    detect: (env) => [claudeCodeFile(env), pathOf(env).join(isAbsoluteFor(env, env.env.CLAUDE_CONFIG_DIR) ? env.env.CLAUDE_CONFIG_DIR : env.home, '.claude')],
    entry: httpTypeAndUrl,
  },
  {
    id: 'claude-desktop',
    displayName: 'Claude Desktop',
    format: 'json',
    pointer: ['mcpServers'],
    // Windows MSIX installs (the default since early 2026) read a virtualised copy of the file.
    files: async (env) => [claudeDesktopFile(env), ...((await claudeDesktopMsixInstalled(env)) ? [claudeDesktopMsixFile(env)] : [])],
    detect: (env) => [pathOf(env).dirname(claudeDesktopFile(env)), ...(env.platform === 'win32' ? [claudeDesktopMsixPackage(env)] : [])],
    // The file takes stdio servers only (an http entry is ignored or crashes the app): a bridge.
    entry: (w, ctx) => ({ command: ctx.thvCommand[0], args: [...ctx.thvCommand.slice(1), 'proxy', 'stdio', w.name] }),
    note: 'stdio bridge: `thv proxy stdio <workload>`',
  },
  {
    id: 'cursor',
    displayName: 'Cursor',
    format: 'json',
    pointer: ['mcpServers'],
    ...homeFile('.cursor', 'mcp.json'),
    entry: urlOnly,
  },
  { id: 'vscode', displayName: 'VS Code', format: 'json', pointer: ['servers'], ...vscodeFiles('Code'), entry: httpTypeAndUrl },
  { id: 'vscode-insider', displayName: 'VS Code Insiders', format: 'json', pointer: ['servers'], ...vscodeFiles('Code - Insiders'), entry: httpTypeAndUrl },
  {
    id: 'windsurf',
    displayName: 'Windsurf',
    format: 'json',
    pointer: ['mcpServers'],
    ...homeFile('.codeium', 'windsurf', 'mcp_config.json'),
    entry: (w) => ({ serverUrl: w.url }),
  },
  {
    id: 'cline',
    displayName: 'Cline (VS Code extension)',
    format: 'json',
    pointer: ['mcpServers'],
    files: (env) => [pathOf(env).join(clineSettingsDir(env), 'cline_mcp_settings.json')],
    detect: (env) => [clineSettingsDir(env)],
    // Without `type`, Cline reads a url entry as SSE.
    entry: (w) => ({ type: w.transport === 'sse' ? 'sse' : 'streamableHttp', url: w.url, disabled: false }),
  },
  {
    id: 'continue',
    displayName: 'Continue',
    format: 'yaml-array',
    pointer: ['mcpServers'],
    ...homeFile('.continue', 'config.yaml'),
    entry: (w) => ({ name: w.name, type: w.transport === 'sse' ? 'sse' : 'streamable-http', url: w.url }),
    // Continue's config.yaml needs these keys to load.
    emptyFile: 'name: Local Config\nversion: 1.0.0\nschema: v1\n',
  },
  {
    id: 'gemini-cli',
    displayName: 'Gemini CLI',
    format: 'json',
    pointer: ['mcpServers'],
    ...homeFile('.gemini', 'settings.json'),
    entry: (w) => (w.transport === 'sse' ? { url: w.url, type: 'sse' } : { httpUrl: w.url }),
  },
  {
    id: 'codex',
    displayName: 'Codex CLI',
    format: 'toml',
    pointer: ['mcp_servers'],
    files: (env) => [pathOf(env).join(codexHome(env), 'config.toml')],
    detect: (env) => [codexHome(env)],
    // Codex speaks streamable HTTP only and denies unknown keys (no `type`).
    entry: streamableOnly((url) => ({ url })),
  },
  {
    id: 'zed',
    displayName: 'Zed',
    format: 'json',
    pointer: ['context_servers'],
    files: (env) => [pathOf(env).join(zedDir(env), 'settings.json')],
    detect: (env) => [zedDir(env)],
    entry: urlOnly,
  },
  {
    id: 'goose',
    displayName: 'Goose',
    format: 'yaml-map',
    pointer: ['extensions'],
    files: (env) => [pathOf(env).join(gooseDir(env), 'config.yaml')],
    detect: (env) => [gooseDir(env)],
    // Goose dropped SSE; only streamable_http works.
    entry: streamableOnly((url, w) => ({ name: w.name, type: 'streamable_http', uri: url, enabled: true, timeout: 60, description: '' })),
  },
  { id: 'lm-studio', displayName: 'LM Studio', format: 'json', pointer: ['mcpServers'], ...homeFile('.lmstudio', 'mcp.json'), entry: urlOnly },
  {
    id: 'opencode',
    displayName: 'opencode',
    format: 'json',
    pointer: ['mcp'],
    files: async (env) => [await preferJsonc(env, pathOf(env).join(xdgConfig(env), 'opencode'), 'opencode')],
    detect: (env) => [pathOf(env).join(xdgConfig(env), 'opencode')],
    entry: (w) => ({ type: 'remote', url: w.url, enabled: true }),
  },
  { id: 'kiro', displayName: 'Kiro', format: 'json', pointer: ['mcpServers'], ...homeFile('.kiro', 'settings', 'mcp.json'), entry: urlOnly },
  {
    id: 'amp-cli',
    displayName: 'Amp CLI',
    format: 'json',
    // One literal key with a dot in it: never split on ".".
    pointer: ['amp.mcpServers'],
    files: async (env) => [await preferJsonc(env, ampDir(env), 'settings')],
    detect: (env) => [ampDir(env)],
    entry: urlOnly,
  },
  {
    id: 'copilot-cli',
    displayName: 'GitHub Copilot CLI',
    format: 'json',
    pointer: ['mcpServers'],
    ...homeFile('.copilot', 'mcp-config.json'),
    entry: (w) => ({ type: w.transport === 'sse' ? 'sse' : 'http', url: w.url, tools: ['*'] }),
  },
  {
    id: 'antigravity',
    displayName: 'Antigravity',
    format: 'json',
    pointer: ['mcpServers'],
    ...homeFile('.gemini', 'antigravity', 'mcp_config.json'),
    entry: (w) => ({ serverUrl: w.url }),
  },
];

export const CLIENT_IDS: readonly string[] = CLIENTS.map((c) => c.id);

export function findClient(id: string): ClientDefinition | undefined {
  return CLIENTS.find((c) => c.id === id);
}

function claudeCodeFile(env: ClientEnvironment): string {
  const dir = isAbsoluteFor(env, env.env.CLAUDE_CONFIG_DIR) ? env.env.CLAUDE_CONFIG_DIR : env.home;
  return pathOf(env).join(dir, '.claude.json');
}

function claudeDesktopFile(env: ClientEnvironment): string {
  const p = pathOf(env);
  if (env.platform === 'darwin') return p.join(env.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
  if (env.platform === 'win32') return p.join(appData(env), 'Claude', 'claude_desktop_config.json');
  // No official Linux build; the community builds read this file.
  return p.join(xdgConfig(env), 'Claude', 'claude_desktop_config.json');
}

/** The MSIX install of Claude Desktop (the Windows default since early 2026) reads a virtualised copy. */
export function claudeDesktopMsixFile(env: ClientEnvironment): string {
  return pathOf(env).join(claudeDesktopMsixPackage(env), 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json');
}

function claudeDesktopMsixPackage(env: ClientEnvironment): string {
  return pathOf(env).join(localAppData(env), 'Packages', 'Claude_pzs8sxrjxfjjc');
}

async function claudeDesktopMsixInstalled(env: ClientEnvironment): Promise<boolean> {
  if (env.platform !== 'win32') return false;
  const { access } = await import('node:fs/promises');
  return access(claudeDesktopMsixPackage(env)).then(() => true, () => false);
}

function clineSettingsDir(env: ClientEnvironment): string {
  return pathOf(env).join(editorUserDir(env, 'Code'), 'globalStorage', 'saoudrizwan.claude-dev', 'settings');
}

function codexHome(env: ClientEnvironment): string {
  return isAbsoluteFor(env, env.env.CODEX_HOME) ? env.env.CODEX_HOME : pathOf(env).join(env.home, '.codex');
}

/** Zed: %APPDATA%\Zed on Windows, ~/.config/zed on macOS, $XDG_CONFIG_HOME/zed (Flatpak's first) on Linux. */
function zedDir(env: ClientEnvironment): string {
  const p = pathOf(env);
  if (env.platform === 'win32') return p.join(appData(env), 'Zed');
  if (env.platform === 'darwin') return p.join(env.home, '.config', 'zed');
  const flatpak = env.env.FLATPAK_XDG_CONFIG_HOME;
  return p.join(isAbsoluteFor(env, flatpak) ? flatpak : xdgConfig(env), 'zed');
}

/** Goose: %APPDATA%\Block\goose\config on Windows, else $XDG_CONFIG_HOME/goose (its XDG strategy on macOS too). */
function gooseDir(env: ClientEnvironment): string {
  const p = pathOf(env);
  if (env.platform === 'win32') return p.join(appData(env), 'Block', 'goose', 'config');
  return p.join(xdgConfig(env), 'goose');
}

/** Amp: ~/.config/amp (honouring $XDG_CONFIG_HOME) on every platform, per its current docs. */
function ampDir(env: ClientEnvironment): string {
  const p = pathOf(env);
  if (env.platform === 'win32') return p.join(env.home, '.config', 'amp');
  return p.join(xdgConfig(env), 'amp');
}

/** `<base>.jsonc` when only that one exists, else `<base>.json` (opencode and Amp read either). */
async function preferJsonc(env: ClientEnvironment, dir: string, base: string): Promise<string> {
  const { access } = await import('node:fs/promises');
  const exists = (f: string) => access(f).then(() => true, () => false);
  const jsonPath = pathOf(env).join(dir, `${base}.json`);
  const jsoncPath = pathOf(env).join(dir, `${base}.jsonc`);
  if (!(await exists(jsonPath)) && (await exists(jsoncPath))) return jsoncPath;
  return jsonPath;
}
