import { defineConfig } from 'vitest/config';
import { findNode } from '../scripts/node-runtime.mjs';
import { nodePool } from './support/node-pool.js';

// Which Node.js runs what, as in production: the relay on 24, the edge agent on 20.19 (Debian's
// nodejs on a Pi) and 24. Every test runs on Node.js 24; the agent's and shared's unit tests run
// again on Node.js 20; end-to-end tests start agents on Node.js 20 (LIFELINE_AGENT_NODE, read by
// support/lifeline-process.ts) beside a relay on 24. Both binaries come from `npm ci`
// (../scripts/node-runtime.mjs). Under CI a missing one is an error; elsewhere the Node.js 20 runs
// are left out with a warning.
const node24 = findNode(24);
const node20 = findNode(20);
for (const [major, lookup] of [[24, node24], [20, node20]] as const) {
  if (!lookup.problem) continue;
  if (process.env.CI === 'true' || major === 24) throw new Error(`test/vitest.config.ts: ${lookup.problem}`);
  console.warn(`WARNING: leaving out the Node.js ${major} test runs: ${lookup.problem}`);
}
const agentNode = node20.path ?? node24.path!;

const agentAndSharedUnitTests = ['packages/edge-agent/src/**/*.test.ts', 'packages/shared/src/**/*.test.ts'];

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
          env: { LIFELINE_TEST_NODE: '24', LIFELINE_AGENT_NODE: agentNode },
        },
      },
      ...(node20.path
        ? [
            {
              extends: true as const,
              test: {
                name: 'node20',
                include: [...agentAndSharedUnitTests, 'test/node-runtime.test.ts'],
                pool: nodePool('node20', node20.path),
                env: { LIFELINE_TEST_NODE: '20' },
              },
            },
          ]
        : []),
    ],
  },
});
