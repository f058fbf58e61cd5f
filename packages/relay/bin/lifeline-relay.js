#!/usr/bin/env node
// Thin launcher so the bin exists before the first build; the CLI lives in dist/main.js.
// The Node.js version is checked first, before anything that an old Node could not even load.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`lifeline-relay: needs Node.js 24 or later; this is ${process.version} (${process.execPath})\n`);
  process.exit(69); // EX_UNAVAILABLE, as ExitCode.unavailable: systemd does not restart it in a loop
}
// File system calls and scrypt share libuv's thread pool, created at its first use (not yet:
// nothing above touches it). Eight threads instead of four, so a hung state disk (whose calls the
// relay bounds to two at once, recording/disk-gate.ts) can never leave password checks waiting.
process.env.UV_THREADPOOL_SIZE ??= '8';
await import('../dist/main.js');
