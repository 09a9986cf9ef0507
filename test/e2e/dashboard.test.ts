import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { startServe, type ServeProcess } from '../fixtures/serve.js';
import { startTestIdp, TEST_CLIENT_ID } from '../fixtures/idp.js';
import { startProtectedRegistry } from '../fixtures/protected-registry.js';
import { freePort } from '../fixtures/ports.js';

/**
 * The dashboard as a person uses it: Debian's Chromium driven by playwright-core against the built
 * CLI's `thv serve`, with real workloads (docs/dashboard.md). Screenshots go to .tmp/screenshots, or
 * to docs/images with THV_UPDATE_SCREENSHOTS=1 (the README shows those).
 */
const CHROMIUM = process.env.THV_CHROMIUM ?? '/usr/bin/chromium';
const STDIO_SERVER = resolve(import.meta.dirname, '../fixtures/mcp-stdio-server.mjs');
const SHOTS = process.env.THV_UPDATE_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../docs/images') : resolve(import.meta.dirname, '../../.tmp/screenshots');
const PASSWORD = 'dashboard test password';

let browser: Browser;
/** What the user waits for on a loaded machine; polling stops as soon as it is true. */
const eventually = <T,>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 30_000, interval: 100 });
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`);
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // This machine has no network: Chromium's own background traffic would only fail.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => browser?.close());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveIn(home: TempHome): Promise<{ serve: ServeProcess; link: string; base: string }> {
  const serve = await startServe(home, ['--port', '0']);
  cleanups.push(() => serve.stop());
  const link = await waitForLink(serve);
  return { serve, link, base: new URL(link).origin };
}

async function waitForLink(serve: ServeProcess): Promise<string> {
  for (;;) {
    const link = /Dashboard[^\n]*\n(http:\/\/\S+\/\?token=\S+)/.exec(serve.stderr())?.[1];
    if (link) return link;
    await new Promise((r) => serve.child.stderr!.once('data', r));
  }
}

async function signedIn(link: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  await page.goto(link);
  return { context, page };
}

async function home(): Promise<TempHome> {
  const h = await makeTempHome();
  h.env.TOOLHIVE_SECRETS_PASSWORD = PASSWORD;
  cleanups.push(() => h.cleanup());
  return h;
}

describe('the dashboard served by thv serve', { timeout: 120_000 }, () => {
  it('signs in with the printed link once, into an HttpOnly SameSite=Strict session; the link and the bare address are refused afterwards', async () => {
    const { link, base } = await serveIn(await home());
    const { context, page } = await signedIn(link);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    await eventually(() => page.getByRole('heading', { name: 'Registry' }).isVisible()).toBe(true);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'thv_session', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).toBe(''); // page scripts cannot read it

    const stranger = await browser.newContext();
    cleanups.push(() => stranger.close());
    const other = await stranger.newPage();
    const reused = await other.goto(link);
    expect(reused?.status()).toBe(401);
    expect(await other.textContent('body')).toContain('already used or has expired');
    expect((await other.goto(`${base}/`))?.status()).toBe(401);
    expect((await stranger.request.get(`${base}/api/v1beta/workloads`)).status()).toBe(401);
    const csp = (await page.request.get(`${base}/`)).headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('searches the catalog as you type, filters by kind and shows a server with its run command', async () => {
    const { link } = await serveIn(await home());
    const { page } = await signedIn(link);
    const count = page.getByText(/\d+ of \d+ servers/);
    await eventually(() => count.textContent()).toMatch(/^(\d+) of \1 servers$/);
    await page.getByRole('searchbox', { name: 'Search servers' }).fill('fetch');
    await eventually(async () => Number((await count.textContent())!.split(' ')[0])).toBeLessThan(10);
    await page.getByRole('button', { name: /^fetch\b/ }).first().click();
    const details = page.getByRole('complementary');
    await eventually(() => details.textContent()).toContain('thv run fetch');
    await page.screenshot({ path: join(SHOTS, 'registry.png') });

    await page.getByRole('searchbox', { name: 'Search servers' }).fill('');
    await page.getByLabel('Kind').selectOption('remote');
    const cards = page.getByRole('list', { name: 'Servers' }).getByRole('button');
    await eventually(() => cards.count()).toBeGreaterThan(0);
    for (const text of await cards.allTextContents()) expect(text).toContain('remote');
  });

  it('runs a stdio server from the form, shows it running live, reads its logs, then stops and removes it', async () => {
    const h = await home();
    const { link } = await serveIn(h);
    const { page } = await signedIn(link);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.getByRole('link', { name: 'Workloads' }).click();
    await page.getByLabel('Name', { exact: true }).fill('echo-ui');
    await page.getByLabel(/^Command/).fill(`${process.execPath} ${STDIO_SERVER}`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const row = page.locator('tr[data-workload="echo-ui"]');
    await eventually(() => row.locator('.status').textContent()).toBe('running');
    expect(await row.locator('code.url').textContent()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    await page.screenshot({ path: join(SHOTS, 'workloads.png') });

    await row.getByRole('link', { name: 'Logs' }).click();
    const log = page.getByLabel('Log of echo-ui');
    // The supervisor logs the server's start; Follow re-reads until it shows.
    await eventually(() => log.textContent()).toMatch(/MCP server process started|\bstarted\b/i);
    await page.screenshot({ path: join(SHOTS, 'logs.png') });

    await page.getByRole('link', { name: 'Workloads' }).click();
    await row.getByRole('button', { name: 'Stop' }).click();
    await eventually(() => row.locator('.status').textContent()).toBe('stopped');
    await row.getByRole('button', { name: 'Remove' }).click();
    await eventually(() => row.count()).toBe(0);
    const listed = await runThv(['list', '--all', '--format', 'json'], h);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it('sets a secret by name, lists names only and never shows a value', async () => {
    const { link } = await serveIn(await home());
    const { page } = await signedIn(link);
    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.getByLabel('Name', { exact: true }).fill('demo-token');
    await page.getByLabel('Value', { exact: true }).fill('s3cr3t-value-never-shown');
    await page.getByRole('button', { name: 'Save' }).click();
    const names = page.getByRole('list', { name: 'Secret names' });
    await eventually(() => names.textContent()).toContain('demo-token');
    expect(await page.content()).not.toContain('s3cr3t-value-never-shown');
    await page.screenshot({ path: join(SHOTS, 'secrets.png') });
    await page.getByRole('link', { name: 'Clients' }).click();
    await eventually(() => page.getByRole('table').isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'clients.png') });
  });

  it('shows a registry that needs a login as such, and "Log in" opens the authorization URL that completes the login', async () => {
    const idp = await startTestIdp();
    cleanups.push(() => idp.close());
    const registry = await startProtectedRegistry(idp);
    cleanups.push(() => registry.close());
    const h = await home();
    const { serve, link, base } = await serveIn(h);
    const put = await fetch(`${base}/api/v1beta/registry/default`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        api_url: registry.url,
        allow_private_ip: true,
        auth: { issuer: idp.issuer, client_id: TEST_CLIENT_ID, audience: 'registry', scopes: ['openid'], callback_port: await freePort() },
      }),
    });
    expect(put.status, await put.text()).toBe(200);

    const { context, page } = await signedIn(link);
    await eventually(() => page.getByRole('alert').textContent()).toContain('needs you to log in');
    await page.getByRole('link', { name: 'Registry login' }).first().click();
    await eventually(() => page.locator('[data-login-status]').textContent()).toBe('Login required');
    await page.screenshot({ path: join(SHOTS, 'login.png') });

    const popup = context.waitForEvent('page');
    await page.getByRole('button', { name: 'Log in' }).click();
    const tab = await popup;
    // The test IdP signs its one user in without a form, so the tab goes on to thv's loopback callback.
    await eventually(() => tab.url()).toMatch(/^http:\/\/localhost:\d+\/callback\?/);
    await eventually(() => page.locator('[data-login-status]').textContent()).toBe('authenticated');
    await page.getByRole('link', { name: 'Registry' }).first().click();
    await eventually(() => page.getByText(/\d+ of \d+ servers/).textContent()).toBe('3 of 3 servers');
  });

  it('is usable on a phone-sized screen', async () => {
    const { link } = await serveIn(await home());
    const { page } = await signedIn(link, { width: 390, height: 844 });
    await eventually(() => page.getByRole('heading', { name: 'Registry' }).isVisible()).toBe(true);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.keyboard.press('Tab'); // the skip link is the first stop for keyboard users
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.screenshot({ path: join(SHOTS, 'registry-mobile.png') });
  });
});
