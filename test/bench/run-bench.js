#!/usr/bin/env node
// `npm run bench`: compiles the benchmark (test/bench/*.ts, apart from the packages and from
// `npm test`) into test/bench/dist, then runs it. Arguments pass through: --help lists them.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', `${here}tsconfig.json`], { stdio: 'inherit' });
const { main } = await import('./dist/test/bench/main.js');
process.exitCode = await main(process.argv.slice(2));
