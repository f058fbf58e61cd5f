import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../packages/relay/src/ssh/password-hash.js';
import { relayBin } from './support/lifeline-process.js';
import { makeTempDir } from './support/temp-dir.js';
import { TmuxTerminal } from './support/tmux-terminal.js';

describe('lifeline-relay hash-password on a real terminal (tmux) and from a pipe', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let terminal: TmuxTerminal | undefined;

  beforeAll(async () => {
    dir = await makeTempDir('e2e-hash-password');
  });
  afterEach(() => {
    terminal?.kill();
    terminal = undefined;
  });
  afterAll(async () => {
    await dir?.remove();
  });

  /**
   * Runs the command in tmux with stdout to a file, so the hash is not mixed with the prompts,
   * and shows its exit status on the screen (tmux's pane_dead_status can lag the pane's end).
   */
  function startOnTerminal(out: string): TmuxTerminal {
    return TmuxTerminal.start(['sh', '-c', `"${process.execPath}" "${relayBin}" hash-password > "${out}"; echo "[exit $?]"; sleep 30`]);
  }
  const exitStatus = async (t: TmuxTerminal) => Number(/\[exit (\d+)\]/.exec(await t.waitForScreen(/\[exit \d+\]/, 20_000))![1]);

  it('asks twice without echo and prints the hash when both match', async () => {
    const out = `${dir.path}/match.txt`;
    terminal = startOnTerminal(out);
    await terminal.waitForScreen('Password (not shown):');
    terminal.type('Secr3t pw');
    terminal.keys('Enter');
    await terminal.waitForScreen('Same password again:');
    terminal.type('Secr3t pw');
    terminal.keys('Enter');
    expect(await exitStatus(terminal)).toBe(0);
    expect(terminal.screen()).not.toContain('Secr3t');
    const hash = (await readFile(out, 'utf8')).trim();
    await expect(verifyPassword('Secr3t pw', hash)).resolves.toBe(true);
  });

  it('refuses two different passwords with exit status 1 and prints no hash', async () => {
    const out = `${dir.path}/mismatch.txt`;
    terminal = startOnTerminal(out);
    await terminal.waitForScreen('Password (not shown):');
    terminal.type('first-one');
    terminal.keys('Enter');
    await terminal.waitForScreen('Same password again:');
    terminal.type('first-0ne');
    terminal.keys('Enter');
    expect(await exitStatus(terminal)).toBe(1);
    expect(terminal.screen()).toContain('the two passwords differ');
    expect(await readFile(out, 'utf8')).toBe('');
  });

  it('takes one line from a pipe, for scripts', async () => {
    const result = spawnSync(process.execPath, [relayBin, 'hash-password'], { input: 'piped pw\n', timeout: 20_000 });
    expect(result.status).toBe(0);
    expect(result.stderr.toString()).toBe('');
    await expect(verifyPassword('piped pw', result.stdout.toString().trim())).resolves.toBe(true);
  });
});
