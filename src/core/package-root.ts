import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The folder holding thv's package.json, whether running from dist/ (bundled) or src/ (tests). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'bin', 'thv.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the thv package root');
    dir = parent;
  }
  cached = dir;
  return dir;
}
