import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENTS, claudeDesktopMsixFile, type ClientDefinition, type ClientPlatform } from '../../src/clients/catalog.js';
import { clientsFixture, workload, type ClientsFixture } from './helpers.js';

const LAYOUTS: Array<{ platform: ClientPlatform; home: string; env: Record<string, string> }> = [
  { platform: 'linux', home: '/home/ada', env: {} },
  { platform: 'darwin', home: '/Users/ada', env: {} },
  { platform: 'win32', home: 'C:\\Users\\ada', env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' } },
];

describe('where each client keeps its MCP servers', () => {
  for (const layout of LAYOUTS) {
    it(`matches the golden table on ${layout.platform}`, async () => {
      const table: Record<string, { files: string[]; installed_when_exists: string[] }> = {};
      for (const client of CLIENTS) {
        const env = { platform: layout.platform, home: layout.home, env: layout.env };
        table[client.id] = { files: await client.files(env), installed_when_exists: client.detect(env) };
      }
      await expect(`${JSON.stringify(table, null, 2)}\n`).toMatchFileSnapshot(`golden/paths-${layout.platform}.json`);
    });
  }

  it('honours CODEX_HOME, CLAUDE_CONFIG_DIR and XDG_CONFIG_HOME where the client does', async () => {
    const env = { XDG_CONFIG_HOME: '/xdg', CODEX_HOME: '/codex-home', CLAUDE_CONFIG_DIR: '/claude-dir' };
    const files = async (platform: ClientPlatform, id: string) => CLIENTS.find((c) => c.id === id)!.files({ platform, home: '/home/ada', env });
    expect(await files('linux', 'codex')).toEqual(['/codex-home/config.toml']);
    expect(await files('linux', 'claude-code')).toEqual(['/claude-dir/.claude.json']);
    expect(await files('linux', 'zed')).toEqual(['/xdg/zed/settings.json']);
    expect(await files('linux', 'vscode')).toEqual(['/xdg/Code/User/mcp.json']);
    expect(await files('linux', 'goose')).toEqual(['/xdg/goose/config.yaml']);
    expect(await files('linux', 'opencode')).toEqual(['/xdg/opencode/opencode.json']);
    expect(await files('linux', 'amp-cli')).toEqual(['/xdg/amp/settings.json']);
    // macOS Zed and VS Code do not read XDG_CONFIG_HOME.
    expect(await files('darwin', 'zed')).toEqual(['/home/ada/.config/zed/settings.json']);
    expect(await files('darwin', 'vscode')).toEqual(['/home/ada/Library/Application Support/Code/User/mcp.json']);
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    expect(await CLIENTS.find((c) => c.id === 'zed')!.files({ platform: 'linux', home: '/home/ada', env: { XDG_CONFIG_HOME: 'rel' } })).toEqual(['/home/ada/.config/zed/settings.json']);
  });

  it("knows the MSIX copy of Claude Desktop's file on Windows", () => {
    expect(claudeDesktopMsixFile({ platform: 'win32', home: 'C:\\Users\\ada', env: { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' } })).toBe(
      'C:\\Users\\ada\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });
});

/** A config the user already has: their settings, comments where the format has them, and a server of their own. */
function userFile(client: ClientDefinition): string {
  switch (client.format) {
    case 'toml':
      return '# my codex settings\nmodel = "o4-mini"\n\n[mcp_servers.mine]\ncommand = "npx" # my own server\nargs = ["-y", "mine"]\n\n[profiles.fast]\nmodel = "o4-mini"\n';
    case 'yaml-map':
      return '# goose settings\nGOOSE_PROVIDER: openai  # the provider\nextensions:\n  mine:\n    name: mine\n    type: stdio\n    cmd: npx\n    enabled: true\n';
    case 'yaml-array':
      return 'name: Local Config\nversion: 1.0.0\nschema: v1\n# my servers\nmcpServers:\n  - name: mine\n    command: npx # my own server\n';
    case 'json': {
      const pointer = client.pointer.map((k) => JSON.stringify(k));
      return `// my settings\n{\n  "fontSize": 14, // mine\n  ${pointer[0]}: {\n    "mine": { "command": "npx", "args": ["-y", "mine"] }\n  }\n}\n`;
    }
  }
}

const EXT = { json: 'json', toml: 'toml', 'yaml-map': 'yaml', 'yaml-array': 'yaml' } as const;

describe('what thv writes into each client file', () => {
  let fx: ClientsFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  for (const client of CLIENTS) {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      it(`${client.id} (${platform} layout): added beside the user's own entries, then removed`, async () => {
        fx = await clientsFixture(platform);
        const [file] = await client.files(fx.environment);
        const original = userFile(client);
        await mkdir(dirname(file!), { recursive: true });
        await writeFile(file!, original);
        fx.workloads = [workload('fetch', 41001), workload('legacy', 41002, { proxy_mode: 'sse' })];

        const report = await fx.service.register([client.id]);
        expect(report.problems).toEqual([]);
        expect(relative(fx.home, file!)).toMatchSnapshot();
        const registered = await readFile(file!, 'utf8');
        await expect(registered).toMatchFileSnapshot(`golden/files/${client.id}.registered.${EXT[client.format]}`);

        await fx.service.workloadStopped({ name: 'fetch', group: 'default' });
        await fx.service.remove([client.id]);
        const after = await readFile(file!, 'utf8');
        await expect(after).toMatchFileSnapshot(`golden/files/${client.id}.removed.${EXT[client.format]}`);
        expect(after).not.toContain('4100');
        // JSON and TOML files come back byte for byte; YAML keeps content and comments (its printer may respace them).
        if (client.format === 'json' || client.format === 'toml') expect(after).toBe(original);
        else expect(after).toContain('mine');
      });
    }

    it(`${client.id}: a new file in an installed client's folder`, async () => {
      fx = await clientsFixture('linux');
      const [file] = await client.files(fx.environment);
      // Installed: its folder exists (Claude Code: ~/.claude), the file does not.
      for (const dir of client.detect(fx.environment)) if (dir !== file) await mkdir(dir, { recursive: true });
      fx.workloads = [workload('fetch', 41001)];
      await fx.service.register([client.id]);
      await expect(await readFile(file!, 'utf8')).toMatchFileSnapshot(`golden/files/${client.id}.new.${EXT[client.format]}`);
    });
  }
});
