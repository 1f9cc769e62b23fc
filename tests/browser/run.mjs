// Runs every tests/browser/*.test.mjs file: `node run.mjs [name filter]`.
// Exits 0 only if every test passed.

import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { run } from './harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const files = (await readdir(here)).filter((f) => f.endsWith('.test.mjs')).sort();
for (const f of files) {
  await import(pathToFileURL(join(here, f)).href);
}
const failed = await run(process.argv[2] ?? '');
// Exit explicitly: a stray handle (a browser or server left by a timed-out test) must not
// keep the run alive.
process.exit(failed === 0 ? 0 : 1);
