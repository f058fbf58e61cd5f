#!/usr/bin/env node
// Thin launcher so the bin exists before the first build; the CLI lives in dist/main.js.
// The Node.js version is checked first, before anything that an old Node could not even load.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`lifeline-relay: needs Node.js 24 or later; this is ${process.version} (${process.execPath})\n`);
  process.exit(69); // EX_UNAVAILABLE, as ExitCode.unavailable: systemd does not restart it in a loop
}
await import('../dist/main.js');
