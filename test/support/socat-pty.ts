import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireProgram } from './programs.js';
import { waitFor } from './wait.js';

/**
 * Two real ttys joined back to back by socat: the agent opens `agentSide` as if it were a USB
 * serial adapter, the test plays the device on `deviceSide`.
 */
export class SocatPtyPair {
  private constructor(
    readonly agentSide: string,
    readonly deviceSide: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string, name = 'ttyUSB0'): Promise<SocatPtyPair> {
    requireProgram('socat');
    const agentSide = join(dir, name);
    const deviceSide = join(dir, `${name}-device`);
    const child = spawn('socat', [`pty,raw,echo=0,link=${agentSide}`, `pty,raw,echo=0,link=${deviceSide}`], { stdio: 'ignore' });
    await waitFor('socat pty links', () => existsSync(agentSide) && existsSync(deviceSide), 5_000);
    return new SocatPtyPair(agentSide, deviceSide, child);
  }

  /** Both ttys vanish, as when a USB adapter is pulled. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
