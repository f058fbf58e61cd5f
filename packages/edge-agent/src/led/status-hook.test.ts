import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import { capturingLogger } from './led-driver.contract.js';
import { StatusHook, type HookProcess, type SpawnHook } from './status-hook.js';

/** A hook process the test ends by hand. */
interface FakeRun {
  command: string;
  env: NodeJS.ProcessEnv;
  killed: boolean;
  output(stream: 'stdout' | 'stderr', text: string): void;
  exit(code: number | null, signal?: string | null): void;
}

function fakeSpawn(): { spawn: SpawnHook; runs: FakeRun[] } {
  const runs: FakeRun[] = [];
  const spawn: SpawnHook = (command, env) => {
    let finish!: (r: { code: number | null; signal: string | null }) => void;
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => (finish = resolve));
    const listeners: Array<(stream: 'stdout' | 'stderr', chunk: Buffer) => void> = [];
    const run: FakeRun = {
      command,
      env,
      killed: false,
      output: (stream, text) => listeners.forEach((l) => l(stream, Buffer.from(text))),
      exit: (code, signal = null) => finish({ code, signal }),
    };
    runs.push(run);
    const proc: HookProcess = {
      done,
      onOutput: (l) => void listeners.push(l),
      kill() {
        run.killed = true;
        finish({ code: null, signal: 'SIGKILL' });
      },
    };
    return proc;
  };
  return { spawn, runs };
}

/** Lets the hook's promise chain move on after a fake process ended. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('StatusHook', () => {
  it('runs the command with the state, reason and device in its environment', async () => {
    const { spawn, runs } = fakeSpawn();
    const hook = new StatusHook({
      command: 'say-it',
      deviceId: 'rtr-tokyo-01',
      logger: silentLogger(),
      spawn,
      baseEnv: { PATH: '/usr/bin' },
      clock: new FakeClock(),
    });
    hook.notify('fault', 'serial port missing');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.command).toBe('say-it');
    expect(runs[0]!.env).toEqual({
      PATH: '/usr/bin',
      LIFELINE_STATE: 'fault',
      LIFELINE_REASON: 'serial port missing',
      LIFELINE_DEVICE: 'rtr-tokyo-01',
    });
    runs[0]!.exit(0);
    await hook.close();
  });

  it("passes on only PATH and LANG of the agent's environment, never its secrets", async () => {
    const { spawn, runs } = fakeSpawn();
    const baseEnv = {
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: '/var/lib/lifeline',
      LIFELINE_IPMI_PASSWORD: 'hunter2',
      CREDENTIALS_DIRECTORY: '/run/credentials/x',
    };
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger: silentLogger(), spawn, baseEnv, clock: new FakeClock() });
    hook.notify('healthy', 'check passed');
    expect(runs[0]!.env).toEqual({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LIFELINE_STATE: 'healthy',
      LIFELINE_REASON: 'check passed',
      LIFELINE_DEVICE: 'd',
    });
    runs[0]!.exit(0);
    await hook.close();
  });

  it('runs one hook at a time and then once more with the latest of the states that came meanwhile', async () => {
    const { spawn, runs } = fakeSpawn();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger: silentLogger(), spawn, clock: new FakeClock() });
    hook.notify('searching', 'agent started');
    hook.notify('healthy', 'check passed');
    hook.notify('searching', 'link frozen');
    hook.notify('fault', 'host key mismatch');
    expect(runs.map((r) => r.env.LIFELINE_STATE)).toEqual(['searching']);
    runs[0]!.exit(0);
    await settle();
    expect(runs.map((r) => r.env.LIFELINE_STATE)).toEqual(['searching', 'fault']);
    runs[1]!.exit(0);
    await hook.close();
    expect(runs).toHaveLength(2);
  });

  it('skips the extra run when the latest state is what the finished run told', async () => {
    const { spawn, runs } = fakeSpawn();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger: silentLogger(), spawn, clock: new FakeClock() });
    hook.notify('healthy', 'check passed');
    hook.notify('searching', 'link frozen');
    hook.notify('healthy', 'check passed');
    runs[0]!.exit(0);
    await settle();
    expect(runs).toHaveLength(1);
    hook.notify('searching', 'link frozen');
    expect(runs).toHaveLength(2);
    runs[1]!.exit(0);
    await hook.close();
  });

  it('kills a hook that runs past its timeout, says so, and goes on with the next state', async () => {
    const clock = new FakeClock();
    const { spawn, runs } = fakeSpawn();
    const { logger, lines } = capturingLogger();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger, spawn, clock });
    hook.notify('searching');
    hook.notify('healthy');
    await clock.advance(9_999);
    expect(runs[0]!.killed).toBe(false);
    await clock.advance(1);
    expect(runs[0]!.killed).toBe(true);
    await settle();
    expect(lines.filter((l) => l.event === 'status.hook_timeout').map((l) => [l.level, l.timeoutMs])).toEqual([[40, 10_000]]);
    expect(runs.map((r) => r.env.LIFELINE_STATE)).toEqual(['searching', 'healthy']);
    runs[1]!.exit(0);
    await hook.close();
  });

  it('logs a failing hook as a warning and its output at debug, and runs the next', async () => {
    const { spawn, runs } = fakeSpawn();
    const { logger, lines } = capturingLogger();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger, spawn, clock: new FakeClock() });
    hook.notify('fault', 'key not enrolled');
    hook.notify('searching');
    runs[0]!.output('stderr', 'espeak-ng: no audio device\n');
    runs[0]!.exit(1);
    await settle();
    expect(lines.find((l) => l.event === 'status.hook_failed')).toMatchObject({ level: 40, code: 1, state: 'fault' });
    expect(lines.find((l) => l.event === 'status.hook_output')).toMatchObject({ level: 20, stderr: 'espeak-ng: no audio device\n' });
    expect(runs).toHaveLength(2);
    runs[1]!.exit(0);
    await hook.close();
  });

  it("keeps only the first 4 KiB of a chatty hook's output", async () => {
    const { spawn, runs } = fakeSpawn();
    const { logger, lines } = capturingLogger();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger, spawn, clock: new FakeClock() });
    hook.notify('healthy');
    for (let i = 0; i < 100; i++) runs[0]!.output('stdout', 'x'.repeat(1000));
    runs[0]!.exit(0);
    await hook.close();
    expect((lines.find((l) => l.event === 'status.hook_output')?.stdout as string).length).toBe(4096);
  });

  it('survives a spawn that throws', async () => {
    const { logger, lines } = capturingLogger();
    const spawn: SpawnHook = () => {
      throw new Error('spawn E2BIG');
    };
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger, spawn, clock: new FakeClock() });
    hook.notify('healthy');
    await hook.close();
    expect(lines.find((l) => l.event === 'status.hook_failed')).toMatchObject({ level: 40, state: 'healthy' });
  });

  it('starts nothing new once closed and waits for the running hook', async () => {
    const { spawn, runs } = fakeSpawn();
    const hook = new StatusHook({ command: 'h', deviceId: 'd', logger: silentLogger(), spawn, clock: new FakeClock() });
    hook.notify('searching');
    hook.notify('healthy');
    let closed = false;
    const closing = hook.close().then(() => (closed = true));
    hook.notify('fault');
    await settle();
    expect(closed).toBe(false);
    runs[0]!.exit(0);
    await closing;
    expect(runs).toHaveLength(1);
  });
});

/** True once `pid` has exited (a zombie waiting for init to reap it counts as exited). */
async function isGone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(')')));
}

describe('StatusHook with a real shell', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('runs a real script through /bin/sh -c with the state in its environment', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-hook-'));
    const script = join(dir, 'hook.sh');
    const out = join(dir, 'env.txt');
    await writeFile(script, `#!/bin/sh\nprintf '%s|%s|%s\\n' "$LIFELINE_STATE" "$LIFELINE_REASON" "$LIFELINE_DEVICE" >> "${out}"\n`, {
      mode: 0o755,
    });
    const hook = new StatusHook({ command: `"${script}"`, deviceId: 'rtr-tokyo-01', logger: silentLogger() });
    hook.notify('fault', 'host key mismatch');
    await hook.close();
    expect(await readFile(out, 'utf8')).toBe('fault|host key mismatch|rtr-tokyo-01\n');
  });

  it("keeps a secret in the agent's own environment from a real hook", async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-hook-'));
    const out = join(dir, 'env.txt');
    process.env.LIFELINE_IPMI_PASSWORD = 'hunter2-in-the-agent';
    try {
      const hook = new StatusHook({ command: `env > "${out}"`, deviceId: 'rtr-tokyo-01', logger: silentLogger() });
      hook.notify('fault', 'serial port missing');
      await hook.close();
    } finally {
      delete process.env.LIFELINE_IPMI_PASSWORD;
    }
    const seen = await readFile(out, 'utf8');
    expect(seen).not.toContain('hunter2');
    expect(seen).toContain('LIFELINE_DEVICE=rtr-tokyo-01\n');
    expect(seen).toContain(`PATH=${process.env.PATH}\n`);
    // Only what the shell adds by itself besides ours (dash: PWD).
    const names = seen
      .trim()
      .split('\n')
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(
      names.filter(
        (n) => !['PATH', 'LANG', 'LIFELINE_STATE', 'LIFELINE_REASON', 'LIFELINE_DEVICE', 'PWD', 'OLDPWD', 'SHLVL', '_'].includes(n),
      ),
    ).toEqual([]);
  });

  it('kills the whole process group of a real hook that overruns, background children included', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeline-hook-'));
    const pidFile = join(dir, 'pid');
    const { logger, lines } = capturingLogger();
    const hook = new StatusHook({ command: `sleep 30 & echo $! > "${pidFile}"; wait`, deviceId: 'd', logger, timeoutMs: 300 });
    hook.notify('searching');
    await hook.close();
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => isGone(pid), { timeout: 5_000 }).toBe(true);
    expect(lines.some((l) => l.event === 'status.hook_timeout')).toBe(true);
  });

  it('logs the exit code of a real hook that fails', async () => {
    const { logger, lines } = capturingLogger();
    const hook = new StatusHook({ command: 'echo oops >&2; exit 3', deviceId: 'd', logger });
    hook.notify('healthy');
    await hook.close();
    expect(lines.find((l) => l.event === 'status.hook_failed')).toMatchObject({ code: 3 });
    expect(lines.find((l) => l.event === 'status.hook_output')).toMatchObject({ stderr: 'oops\n' });
  });
});
