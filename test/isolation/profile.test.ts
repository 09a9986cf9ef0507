import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinProfile, matchAllowHost, outboundDecision, parseMount, parseProfile, resolveProfile } from '../../src/isolation/profile.js';
import { loadProfileArgument } from '../../src/isolation/profile-file.js';

describe('permission profiles', () => {
  it('has the built-ins none and network', () => {
    expect(builtinProfile('none')?.network?.outbound?.insecure_allow_all).toBe(false);
    expect(builtinProfile('network')?.network?.outbound?.insecure_allow_all).toBe(true);
    expect(builtinProfile('other')).toBeUndefined();
  });

  it('parses mount declarations like ToolHive', () => {
    expect(parseMount('/home/me/data')).toEqual({ source: '/home/me/data', target: '/home/me/data', writable: false });
    expect(parseMount('/home/me/data/:/data', true)).toEqual({ source: '/home/me/data', target: '/data', writable: true });
    expect(parseMount('volume://cache:/cache').source).toBe('volume://cache');
  });

  it.each([
    ['relative', 'data', /not absolute/],
    ['relative inside', '/a:data', /not absolute/],
    ['dollar', '/tmp/$HOME', /character ToolHive refuses/],
    ['semicolon', '/tmp/a;rm', /character ToolHive refuses/],
    ['pipe', '/tmp/a|b', /character ToolHive refuses/],
    ['backtick', '/tmp/`id`', /character ToolHive refuses/],
    ['ampersand', '/tmp/a&b', /character ToolHive refuses/],
    ['nul', '/tmp/a\0b', /NUL/],
    ['two colons', '/a:/b:/c', /more than one/],
    ['dot dot', '/a/../etc', /"\.\."/],
  ])('refuses a %s path with a clear error', (_label, decl, message) => {
    expect(() => parseProfile({ read: [decl] }, 'p.json')).toThrow(message);
    try {
      parseProfile({ write: [decl] }, 'p.json');
    } catch (err) {
      expect((err as Error).message).toMatch(/^p\.json: write /);
    }
  });

  it('validates the network section and names the field at fault', () => {
    expect(() => parseProfile({ network: { outbound: { allow_port: [0] } } })).toThrow(/allow_port must be a list of port numbers/);
    expect(() => parseProfile({ network: { outbound: { allow_host: ['exa mple.com'] } } })).toThrow(/allow_host has an invalid host/);
    expect(() => parseProfile({ network: { outbound: { allow_hosts: ['x'] } } })).toThrow(/network.outbound.allow_hosts is not a profile field/);
    expect(() => parseProfile({ privileged: 'yes' })).toThrow(/privileged must be true or false/);
    // Registry entries are read leniently: an unknown field is ignored.
    expect(resolveProfile({ registry: { network: { outbound: { allow_port: [443], future: 1 } } } }).network?.outbound?.allow_port).toEqual([443]);
  });

  it('normalises *.x to .x and matches like squid dstdomain', () => {
    const p = parseProfile({ network: { outbound: { allow_host: ['*.Example.com', 'api.test'] } } });
    expect(p.network?.outbound?.allow_host).toEqual(['.example.com', 'api.test']);
    expect(matchAllowHost('.example.com', 'example.com')).toBe('exact');
    expect(matchAllowHost('.example.com', 'a.b.example.com')).toBe('domain');
    expect(matchAllowHost('.example.com', 'badexample.com')).toBeUndefined();
    expect(matchAllowHost('api.test', 'x.api.test')).toBeUndefined();
  });

  it('allows host AND port', () => {
    const p = parseProfile({ network: { outbound: { allow_host: ['api.test'], allow_port: [443] } } });
    expect(outboundDecision(p, 'api.test', 443)).toMatchObject({ allowed: true, named: true });
    expect(outboundDecision(p, 'api.test', 80).allowed).toBe(false);
    expect(outboundDecision(p, 'other.test', 443).allowed).toBe(false);
    expect(outboundDecision(builtinProfile('none')!, 'api.test', 443).allowed).toBe(false);
    expect(outboundDecision(builtinProfile('network')!, 'anything.test', 1234).allowed).toBe(true);
  });

  it('resolves sources by priority: explicit, registry, none', () => {
    expect(resolveProfile({ explicit: builtinProfile('network')!, registry: { read: ['/x'] } }).name).toBe('network');
    expect(resolveProfile({ registry: { read: ['/x'] } }).read).toEqual(['/x']);
    expect(resolveProfile({}).name).toBe('none');
  });

  it('loads JSON and YAML files, and refuses what is neither', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'thv-profile-'));
    await writeFile(join(dir, 'p.yaml'), 'read:\n  - /srv/data\nnetwork:\n  outbound:\n    allow_host: ["*.github.com"]\n    allow_port: [443]\n');
    await writeFile(join(dir, 'p.json'), JSON.stringify({ write: ['/srv/out'] }));
    await writeFile(join(dir, 'bad.yaml'), 'read: [relative/path]\n');
    const yaml = await loadProfileArgument('p.yaml', dir);
    expect(yaml).toMatchObject({ name: 'p.yaml', read: ['/srv/data'], network: { outbound: { allow_host: ['.github.com'], allow_port: [443] } } });
    expect((await loadProfileArgument(join(dir, 'p.json'))).write).toEqual(['/srv/out']);
    expect((await loadProfileArgument('network')).name).toBe('network');
    await expect(loadProfileArgument('bad.yaml', dir)).rejects.toThrow(/permission profile bad.yaml: read .*not absolute/);
    await expect(loadProfileArgument('missing.json', dir)).rejects.toThrow(/neither "none", "network" nor a readable file/);
  });
});
