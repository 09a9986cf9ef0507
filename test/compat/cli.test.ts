/** The built CLI on ToolHive's published registry files (reference data). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { SHARED_REGISTRY } from './shared-data.js';

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await home.cleanup();
});

describe('ToolHive\'s registry files', () => {
  it('the legacy catalog is refused with the convert hint, and lists all 102 servers after convert --in-place', async () => {
    const file = join(home.root, 'legacy.json');
    await copyFile(join(SHARED_REGISTRY, 'toolhive-legacy-registry.json'), file);
    const set = await runThv(['config', 'set-registry', file], home);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toContain(`Run \`thv registry convert --in ${file} --in-place\``);

    expect((await runThv(['registry', 'convert', '--in', file, '--in-place'], home)).code).toBe(0);
    expect((await runThv(['config', 'set-registry', file], home)).code).toBe(0);
    const list = await runThv(['registry', 'list', '--format', 'json'], home);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(102);
  });

  it('the upstream catalog and the example registry list every server', async () => {
    for (const [name, count] of [['toolhive-upstream-registry.json', 102], ['upstream-registry-example.json', 12]] as const) {
      expect((await runThv(['config', 'set-registry', join(SHARED_REGISTRY, name)], home)).code).toBe(0);
      const list = await runThv(['registry', 'list', '--format', 'json'], home);
      expect(JSON.parse(list.stdout), name).toHaveLength(count);
    }
  });
});
