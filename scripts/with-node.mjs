#!/usr/bin/env node
// Usage: node scripts/with-node.mjs MAJOR SCRIPT [ARG...]
// Runs SCRIPT on Node.js MAJOR (see node-runtime.mjs for which binary), e.g. `npm start` runs the
// relay's demo on Node.js 24 whatever `node` this machine has. Exits with the script's status; 64
// on a bad command line, 69 (unavailable, as the daemons do for an unsupported Node.js) when no
// Node.js of that major can be found, with one line saying so.
import { spawn } from 'node:child_process';
import { findNode, nodeMajors } from './node-runtime.mjs';

const [majorArg, script, ...args] = process.argv.slice(2);
const major = Number(majorArg);
if (!nodeMajors.includes(major) || !script) {
  console.error(`usage: with-node.mjs ${nodeMajors.join('|')} SCRIPT [ARG...]`);
  process.exit(64);
}
const node = findNode(major);
if (node.problem) {
  console.error(`with-node: ${node.problem}`);
  process.exit(69);
}

const child = spawn(node.path, [script, ...args], { stdio: 'inherit' });
// Ctrl-C reaches the script directly (same process group): only outlive it. Signals sent to this
// process alone (a supervisor's SIGTERM, SIGHUP) are passed on.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`with-node: cannot start ${node.path}: ${err.message}`);
  process.exit(69);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
