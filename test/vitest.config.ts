import { defineConfig } from 'vitest/config';
import { findNode } from '../scripts/node-runtime.mjs';
import { nodePool } from './support/node-pool.js';

// Which Node.js runs what, as in production: the relay on 24, the edge agent on 20.19 (Debian's
// nodejs on a Pi) and 24. Every test runs on Node.js 24; the agent's and shared's unit tests run
// again on Node.js 20; end-to-end tests start agents on Node.js 20 (LIFELINE_AGENT_NODE, read by
// support/lifeline-process.ts) beside a relay on 24. Both binaries come from `npm ci`
// (../scripts/node-runtime.mjs); without either, the run stops here with one line, never skips.
const node24 = findNode(24);
const node20 = findNode(20);
for (const lookup of [node24, node20]) {
  if (!lookup.problem) continue;
  console.error(`test/vitest.config.ts: ${lookup.problem}`);
  process.exit(1);
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start relays and agents as processes; two cores, so not too many at once.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node24',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          pool: nodePool('node24', node24.path!),
          env: { LIFELINE_TEST_NODE: '24', LIFELINE_AGENT_NODE: node20.path! },
        },
      },
      {
        extends: true,
        test: {
          name: 'node20',
          include: ['packages/edge-agent/src/**/*.test.ts', 'packages/shared/src/**/*.test.ts', 'test/node-runtime.test.ts'],
          pool: nodePool('node20', node20.path!),
          env: { LIFELINE_TEST_NODE: '20' },
        },
      },
    ],
  },
});
