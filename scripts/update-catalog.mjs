// Refreshes the embedded catalog shipped in the package from the team's shared registry snapshot.
import { copyFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = process.argv[2] ?? join(root, '..', 'shared', 'data', 'registry', 'toolhive-upstream-registry.json');
await copyFile(from, join(root, 'data', 'embedded-registry.json'));
process.stderr.write(`embedded catalog updated from ${from}\n`);
