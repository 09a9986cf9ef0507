import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemOpener } from '../../src/auth/opener.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-opener-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the URL opener', () => {
  it('runs BROWSER with the URL as its only argument, never through a shell', async () => {
    const out = join(dir, 'argv.json');
    const program = join(dir, 'browser.mjs');
    await writeFile(program, `#!/usr/bin/env node\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2)));\n`);
    await chmod(program, 0o755);
    const url = `https://idp.example/auth?a=1&b=$(touch ${join(dir, 'pwned')});c=\`id\`|x`;
    await systemOpener({ PATH: process.env.PATH, BROWSER: program })(url);
    await vi.waitFor(() => expect(existsSync(out)).toBe(true), { timeout: 5000, interval: 20 });
    await vi.waitFor(async () => expect(JSON.parse(await readFile(out, 'utf8'))).toEqual([url]), { timeout: 5000, interval: 20 });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it("never hands thv's own credentials to the browser", async () => {
    const out = join(dir, 'env.json');
    const program = join(dir, 'browser.mjs');
    await writeFile(program, `#!/usr/bin/env node\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(out)}, JSON.stringify(process.env));\n`);
    await chmod(program, 0o755);
    await systemOpener({
      PATH: process.env.PATH,
      BROWSER: program,
      DISPLAY: ':0',
      TOOLHIVE_SECRETS_PASSWORD: 'pw-123',
      THV_REGISTRY_TOKEN: 'tok-456',
      TOOLHIVE_SECRET_GITHUB: 'gh-789',
    })('https://idp.example/auth');
    await vi.waitFor(async () => expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ DISPLAY: ':0' }), { timeout: 5000, interval: 20 });
    const seen = await readFile(out, 'utf8');
    for (const secret of ['pw-123', 'tok-456', 'gh-789']) expect(seen).not.toContain(secret);
  });

  it('does not fail when the browser program does not exist (the URL is printed anyway)', async () => {
    await expect(systemOpener({ PATH: process.env.PATH, BROWSER: join(dir, 'no-such-browser') })('https://x.example')).resolves.toBeUndefined();
  });
});
