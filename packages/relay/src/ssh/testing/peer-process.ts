import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** True when `name` is on PATH. */
export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * For `describe.skipIf(...)`: skip when a peer program is missing, except under CI=true, where
 * the tests run anyway and fail, so a broken CI image cannot pass by skipping.
 */
export function missingPeers(...names: string[]): boolean {
  return process.env.CI !== 'true' && names.some((n) => !hasProgram(n));
}

/** A running peer program with its combined stdout+stderr. */
export class PeerProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      for (const wake of this.waiters.splice(0)) wake();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        resolve({ code, signal });
        for (const wake of this.waiters.splice(0)) wake();
      });
      child.once('error', () => resolve({ code: null, signal: null }));
    });
  }

  write(data: string | Buffer): void {
    this.child.stdin?.write(data);
  }

  /** Resolves once the output matches; rejects after `ms` or when the process exits first. */
  waitForOutput(pattern: RegExp | string, ms = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} within ${ms} ms; output so far:\n${this.output}`)), ms);
      const check = () => {
        const hit = typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output);
        if (hit) {
          clearTimeout(timer);
          resolve(this.output);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`process exited before ${String(pattern)}; output:\n${this.output}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Exit status, or a rejection after `ms`. */
  async waitForExit(ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process still running after ${ms} ms; output:\n${this.output}`)), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const running = new Set<PeerProcess>();

/** Spawns a peer program (stdin piped) and remembers it for killAllPeers(). */
export function spawnPeer(command: string, args: string[], env: NodeJS.ProcessEnv = {}): PeerProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...cleanEnv(), ...env } });
  const peer = new PeerProcess(child);
  running.add(peer);
  void peer.exited.then(() => running.delete(peer));
  return peer;
}

// Runs argv on a fresh 80x24 pty; copies our stdin to the pty and the pty to our stdout; exits
// with the child's status. Debian's python3 (not a separate one on PATH) has pty and termios.
const PTY_RUNNER = `
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
inputs = [fd, 0]
while True:
    r, _, _ = select.select(inputs, [], [])
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            inputs = [fd]
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Like spawnPeer, but the program runs on a pseudo-terminal (for OpenSSH escapes, `-tt`, prompts). */
export function spawnPeerOnPty(command: string, args: string[], env: NodeJS.ProcessEnv = {}): PeerProcess {
  return spawnPeer('/usr/bin/python3', ['-c', PTY_RUNNER, command, ...args], env);
}

/** Kills every peer still running (afterEach). */
export async function killAllPeers(): Promise<void> {
  const peers = [...running];
  for (const peer of peers) peer.child.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.exited));
}

/** The environment without anything that would let OpenSSH use the developer's agent or config. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  delete env.SSH_AGENT_PID;
  delete env.DISPLAY;
  return env;
}
