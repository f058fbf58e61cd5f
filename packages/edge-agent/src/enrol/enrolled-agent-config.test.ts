import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '@lifeline/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrolledConsolePath, writeEnrolledAgentConfig } from './enrolled-agent-config.js';

const file = {
  relay: { host: 'relay.example.net', port: 443, hostKey: `SHA256:${'A'.repeat(43)}` },
  device: 'rtr-tokyo-01',
  token: '0123456789abcdef0123456789abcdef',
  status: { led: { type: 'none' as const } },
};

describe('the agent.yaml an enrolled Pi writes', () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'enrolled-config-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is a valid agent.yaml, mode 0600, with no temporary file left and no token in it', async () => {
    const target = join(dir, 'agent.yaml');
    await writeFile(target, 'old: content\n');
    await writeEnrolledAgentConfig(target, file, '/var/lib/lifeline/agent_ed25519', '/dev/serial/by-id/usb-x');
    const config = await loadConfigFile(target, 'agent');
    expect(config).toMatchObject({ relay: file.relay, device: 'rtr-tokyo-01', keyFile: '/var/lib/lifeline/agent_ed25519' });
    expect(config.console).toMatchObject({ type: 'serial', path: '/dev/serial/by-id/usb-x' });
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['agent.yaml']);
  });

  it('takes the console from the file, else the single adapter, else says why not', async () => {
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    await expect(enrolledConsolePath(file, byId)).rejects.toThrow(/no serial adapter/);
    await writeFile(join(byId, 'usb-FTDI-if00'), '');
    expect(await enrolledConsolePath(file, byId)).toBe(join(byId, 'usb-FTDI-if00'));
    expect(await enrolledConsolePath({ ...file, console: '/dev/ttyS0' }, byId)).toBe('/dev/ttyS0');
    await writeFile(join(byId, 'usb-Prolific-if00'), '');
    await expect(enrolledConsolePath(file, byId)).rejects.toThrow(/2 serial adapters/);
  });
});
