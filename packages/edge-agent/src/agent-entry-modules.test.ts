import { fileURLToPath } from 'node:url';
import { modulesLoadedBy, packageOfUrl } from '@lifeline/shared/testing';
import { describe, expect, it } from 'vitest';

// Issue 11: the agent's main process must not load zod or yaml (6-13 MiB of RSS, docs/benchmarks.md
// "Edge agent memory"); its config files are read and checked by the config reader process. This
// runs the agent's real entry (dist/main.js, built by `tsc -b`) in a fresh Node.js, the one running
// the tests (20 and 24), with a module hook that records every module URL it resolves.

const agentMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe("the edge agent's main process", () => {
  it('loads neither zod nor yaml: its whole static module graph, run as lifeline-agent --version', async () => {
    const urls = await modulesLoadedBy([agentMain, '--version']);
    const packages = new Set(urls.map(packageOfUrl).filter(Boolean));
    // The hook saw the agent's graph: the shared agent entry and the packages the agent does use.
    expect(urls.some((u) => u.includes('/packages/shared/dist/core.js'))).toBe(true);
    expect(packages).toContain('pino');
    expect(packages).toContain('ssh2');
    expect([...packages].filter((p) => p === 'zod' || p === 'yaml')).toEqual([]);
  });

  it('the same check finds zod and yaml behind the full @lifeline/shared entry (what the ESLint rule keeps out)', async () => {
    const urls = await modulesLoadedBy(['--input-type=module', '-e', "import '@lifeline/shared';"]);
    const packages = new Set(urls.map(packageOfUrl));
    expect(packages).toContain('zod');
    expect(packages).toContain('yaml');
  });
});
