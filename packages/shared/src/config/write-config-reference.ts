// `npm run docs:config`: writes docs/config.md from the config schemas. The repo root is found from
// this file's own place (packages/shared/{src,dist}/config/), so it works from any directory.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './config-reference.js';

const target = fileURLToPath(new URL('../../../../docs/config.md', import.meta.url));
await writeFile(target, renderConfigReference());
process.stdout.write(`wrote ${target}\n`);
