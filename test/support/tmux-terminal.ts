import { execFileSync } from 'node:child_process';
import { requireProgram } from './programs.js';
import { waitFor } from './wait.js';

/**
 * A real terminal for interactive clients (OpenSSH escapes need one): a tmux session on a
 * private socket, driven with send-keys and read with capture-pane.
 */
export class TmuxTerminal {
  private static counter = 0;
  private readonly socket = `lifeline-test-${process.pid}-${TmuxTerminal.counter++}`;

  private constructor(private readonly session: string) {}

  static start(command: string[], env: Record<string, string> = {}): TmuxTerminal {
    requireProgram('tmux');
    const terminal = new TmuxTerminal('t');
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // remain-on-exit keeps the pane readable (and its exit status) after the client exits.
    terminal.tmux(['new-session', '-d', '-s', 't', '-x', '120', '-y', '40', ...envArgs, ...command]);
    terminal.tmux(['set-option', '-t', 't', 'remain-on-exit', 'on']);
    return terminal;
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args]).toString();
  }

  /** Types text literally (no key-name interpretation). */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.session, '-l', text]);
  }

  /** Sends named keys, e.g. 'Enter', 'C-]'. */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...names]);
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.session, '-S', '-200']);
  }

  waitForScreen(pattern: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(
      () => `screen to show ${String(pattern)}:\n${this.screen()}`,
      () => {
        const s = this.screen();
        return (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s)) ? s : undefined;
      },
      timeoutMs,
    );
  }

  /** The client's exit status once it has exited, else undefined. */
  exitStatus(): number | undefined {
    const out = this.tmux(['display-message', '-p', '-t', this.session, '#{pane_dead} #{pane_dead_status}']).trim();
    const [dead, status] = out.split(' ');
    return dead === '1' ? Number(status) : undefined;
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
  }
}
