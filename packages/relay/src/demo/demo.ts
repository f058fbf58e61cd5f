import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, LIFELINE_VERSION, createLogger, loadOrCreateKey, relayConfigSchema, shutdownSignal } from '@lifeline/shared';
import { startRelay } from '../relay.js';
import { hashPassword } from '../ssh/password-hash.js';

export interface DemoOptions {
  port: number;
  /** Where keys, configs and logs go; `.lifeline-demo` in the current folder by default. */
  stateDir?: string;
}

/**
 * The embedded demo: a relay on 127.0.0.1, one edge agent as a separate process (as in the
 * field), and the agent's simulated router console. Logs go to files so the terminal stays
 * readable; the terminal shows how to connect.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const stateDir = resolve(options.stateDir ?? process.env.LIFELINE_DEMO_DIR ?? '.lifeline-demo');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });

  const agentKey = await loadOrCreateKey(join(stateDir, 'agent_ed25519'), 'lifeline-agent@demo-router');
  const relayFile = join(stateDir, 'relay.yaml');
  const relayConfig = relayConfigSchema.parse({
    listen: { host: '127.0.0.1', port: options.port },
    // Everything the demo writes stays in its folder, not in /var/lib/lifeline.
    stateDir,
    adminSocket: 'relay.sock',
    users: [{ name: 'demo', password: await hashPassword('demo'), devices: ['demo-router'] }],
    devices: [{ id: 'demo-router', agentKey: agentKey.publicKeyLine, description: 'simulated router' }],
  });
  // Written out so people can see (and copy) what a real configuration looks like.
  await writeFile(relayFile, JSON.stringify(relayConfig, null, 2), { mode: 0o600 });

  const relayLog = createWriteStream(join(stateDir, 'relay.log'), { flags: 'a' });
  const logger = createLogger({ svc: 'relay', version: LIFELINE_VERSION, destination: relayLog });
  const relay = await startRelay(relayConfig, relayFile, logger);

  const agentFile = join(stateDir, 'agent.yaml');
  await writeFile(
    agentFile,
    [
      `relay: { host: 127.0.0.1, port: ${relay.address.port}, hostKey: "${relay.hostKeyFingerprint}" }`,
      'device: demo-router',
      `stateDir: ${JSON.stringify(stateDir)}`,
      'console: { type: sim, hostname: demo-router }',
      'reconnect: { baseMs: 200, capMs: 5000 }',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const agent = startAgentProcess(agentFile, join(stateDir, 'agent.log'));

  const port = relay.address.port;
  process.stdout.write(
    [
      '',
      `lifeline demo is running: relay on 127.0.0.1:${port}, an edge agent, and a simulated router.`,
      '',
      `  OpenSSH:  ssh -p ${port} demo@127.0.0.1                       (password: demo)`,
      `  PuTTY:    plink -ssh -P ${port} -l demo -pw demo 127.0.0.1`,
      `  host key: ${relay.hostKeyFingerprint}`,
      '',
      '  In the session: type "show version"; send BREAK with ~B (OpenSSH, after Enter),',
      '  PuTTY Special Command > Break, or Ctrl-] b; the router drops to ROMMON ("boot" to leave).',
      '  Ctrl-] ? lists the escape commands, Ctrl-] . disconnects.',
      '',
      `  Logs: ${join(stateDir, 'relay.log')} and agent.log beside it. Ctrl-C stops the demo.`,
      '',
    ].join('\n'),
  );

  const signal = await Promise.race([
    shutdownSignal(),
    new Promise<string>((done) => agent.once('exit', (code) => done(`agent exited with ${code}`))),
  ]);
  process.stdout.write(`\nstopping the demo (${signal})\n`);
  agent.kill('SIGTERM');
  await relay.stop();
  return ExitCode.ok;
}

function startAgentProcess(configFile: string, logFile: string): ChildProcess {
  // The demo lives in the monorepo, where the agent package sits beside the relay.
  const agentPackage = dirname(createRequire(import.meta.url).resolve('@lifeline/edge-agent/package.json'));
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [join(agentPackage, 'bin', 'lifeline-agent.js'), 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}
