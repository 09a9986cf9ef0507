import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from '../../src/core/files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic never writes through a symlink', () => {
  it('a link planted where thv writes is replaced by the file; its target keeps its content and mode', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious\n', { mode: 0o644 });
    const state = join(dir, 'state');
    await mkdir(state, { mode: 0o700 });
    const file = join(state, 'w.json');
    await symlink(victim, file);

    await writeJsonAtomic(file, { name: 'w' });

    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await stat(victim)).mode & 0o777).toBe(0o644);
    expect((await lstat(file)).isSymbolicLink()).toBe(false);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ name: 'w' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // No temp file is left behind.
    expect(await readdir(state)).toEqual(['w.json']);
  });

  it('a dangling link does not create its target', async () => {
    const target = join(dir, 'created-elsewhere');
    const file = join(dir, 'own', 'status.json');
    await mkdir(join(dir, 'own'), { mode: 0o700 });
    await symlink(target, file);
    await writeFileAtomic(file, 'x');
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  it("thv's folder is tightened to 0700 on write; a user's folder (ownFolder: false) is left as it is", async () => {
    const own = join(dir, 'toolhive');
    await mkdir(own, { mode: 0o755 });
    await chmod(own, 0o755);
    await writeFileAtomic(join(own, 'config.yaml'), 'a: 1\n');
    expect((await stat(own)).mode & 0o777).toBe(0o700);

    const users = join(dir, 'cursor');
    await mkdir(users);
    await chmod(users, 0o755);
    await writeFileAtomic(join(users, 'mcp.json'), '{}', 0o644, { ownFolder: false });
    expect((await stat(users)).mode & 0o777).toBe(0o755);
    expect((await stat(join(users, 'mcp.json'))).mode & 0o777).toBe(0o644);
  });

  it('a link to a folder where thv keeps a file is left a link (the user chose it) and the file lands in its target', async () => {
    const real = join(dir, 'real');
    await mkdir(real, { mode: 0o700 });
    await symlink(real, join(dir, 'linked'));
    await writeFileAtomic(join(dir, 'linked', 'f'), 'ok');
    expect(await readlink(join(dir, 'linked'))).toBe(real);
    expect(await readFile(join(real, 'f'), 'utf8')).toBe('ok');
  });
});
