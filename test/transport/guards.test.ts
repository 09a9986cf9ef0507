import { describe, expect, it } from 'vitest';
import { isAllowedHost, isAllowedOrigin, parseHostHeader } from '../../src/transport/guards.js';

describe('the Host header check', () => {
  const loopback = { host: '127.0.0.1', port: 8080 };

  it.each([
    ['127.0.0.1:8080', true],
    ['localhost:8080', true],
    ['[::1]:8080', true],
    ['localhost', true],
    ['LocalHost:8080', true],
    ['evil.example:8080', false],
    ['evil.example', false],
    ['127.0.0.1.evil.example:8080', false],
    ['localhost:8081', false],
    ['localhost:', false],
    ['::1', false],
    ['', false],
    ['[::1', false],
  ])('bound to 127.0.0.1:8080, Host %j is allowed: %s', (header, allowed) => {
    expect(isAllowedHost(header, loopback)).toBe(allowed);
  });

  it('refuses a request without a Host header', () => {
    expect(isAllowedHost(undefined, loopback)).toBe(false);
  });

  it('bound to another address, accepts that name and refuses others', () => {
    const bound = { host: '192.168.1.20', port: 8080 };
    expect(isAllowedHost('192.168.1.20:8080', bound)).toBe(true);
    expect(isAllowedHost('evil.example:8080', bound)).toBe(false);
    expect(isAllowedHost('192.168.1.21:8080', bound)).toBe(false);
  });

  it('parses IPv6 literals with and without a port', () => {
    expect(parseHostHeader('[::1]:9000')).toEqual({ hostname: '::1', port: 9000 });
    expect(parseHostHeader('[::1]')).toEqual({ hostname: '::1' });
    expect(parseHostHeader('example.com:x')).toBeUndefined();
  });
});

describe('the Origin check', () => {
  const loopback = { host: '127.0.0.1', port: 8080 };

  it.each([
    ['http://127.0.0.1:8080', true],
    ['http://localhost:8080', true],
    ['http://[::1]:8080', true],
    ['http://LOCALHOST:8080', true],
    ['http://localhost:3000', false],
    ['http://localhost', false],
    ['https://localhost:8080', false],
    ['http://evil.example:8080', false],
    ['http://user:pw@localhost:8080', false],
    ['null', false],
    ['', false],
    ['not a url', false],
  ])('bound to 127.0.0.1:8080, Origin %j is allowed: %s', (origin, allowed) => {
    expect(isAllowedOrigin(origin, loopback)).toBe(allowed);
  });

  it('port 80 is the default port of an http Origin', () => {
    expect(isAllowedOrigin('http://localhost', { host: '127.0.0.1', port: 80 })).toBe(true);
    expect(isAllowedOrigin('http://localhost:80', { host: '127.0.0.1', port: 80 })).toBe(true);
  });
});
