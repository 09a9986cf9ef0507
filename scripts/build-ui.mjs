// Builds the web dashboard (src/ui, Preact) into dist/ui for `thv serve` to serve (docs/dashboard.md):
// one script and one stylesheet, minified, no source served from a CDN, nothing inline (strict CSP).
import { build } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function buildDashboard(root) {
  const out = join(root, 'dist', 'ui');
  await mkdir(out, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'src/ui/main.tsx' },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox111', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
    legalComments: 'none',
  });
  await copyFile(join(root, 'src', 'ui', 'index.html'), join(out, 'index.html'));
  const sizes = await Promise.all(['app.js', 'app.css'].map(async (f) => (await stat(join(out, f))).size));
  return { js: sizes[0], css: sizes[1] };
}
