import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentBin, nodeFor, relayBin } from './support/lifeline-process.js';
import { makeTempDir } from './support/temp-dir.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

/** The README's example config files: the ```yaml blocks whose first line names /etc/lifeline/X.yaml. */
async function readmeExamples(): Promise<Map<string, string>> {
  const text = await readFile(readme, 'utf8');
  const examples = new Map<string, string>();
  for (const m of text.matchAll(/```yaml\n(# \/etc\/lifeline\/(\w+)\.yaml[^\n]*\n[\s\S]*?)```/g)) examples.set(m[2]!, m[1]!);
  return examples;
}

describe("README's example configs", () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    dir = await makeTempDir('readme');
  });
  afterEach(() => dir.remove());

  /** `check` as an operator runs it, on the example with its state folder moved into the test's folder. */
  async function check(bin: string, name: string, text: string) {
    const file = join(dir.path, `${name}.yaml`);
    await writeFile(file, `${text}stateDir: ${join(dir.path, 'state')}\n`);
    const result = spawnSync(nodeFor(bin), [bin, 'check', '--config', file], { encoding: 'utf8', timeout: 20_000 });
    return { code: result.status, out: `${result.stdout}${result.stderr}` };
  }

  it('has a relay.yaml and an agent.yaml', async () => {
    expect([...(await readmeExamples()).keys()].sort()).toEqual(['agent', 'relay']);
  });

  it('validates as the relay and the agent check them, and creates nothing', async () => {
    const examples = await readmeExamples();
    const relay = await check(relayBin, 'relay', examples.get('relay')!);
    expect(relay.out).toMatch(/^ok: /);
    expect(relay.code).toBe(0);
    const agent = await check(agentBin, 'agent', examples.get('agent')!);
    expect(agent.out).toMatch(/^ok: /);
    expect(agent.code).toBe(0);
    expect((await readdir(dir.path)).sort()).toEqual(['agent.yaml', 'relay.yaml']);
  });

  it('would be caught if the relay example had a plain password instead of a hash', async () => {
    const broken = (await readmeExamples()).get('relay')!.replace(/password: "\$scrypt\$[^"]*"/, 'password: "hunter2"');
    const relay = await check(relayBin, 'relay', broken);
    expect(relay.out).toContain('users[0].password');
    expect(relay.code).toBe(78);
  });
});
