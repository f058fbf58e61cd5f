import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateParsableEd25519, loadOrCreateKey } from '@lifeline/shared';
import { startRelay } from './bench-site.js';
import { nowMs } from './marker-clock.js';
import { memoryOf } from './process-memory.js';

export interface ScaleRow {
  devices: number;
  users: number;
  /** From spawning the relay until its `relay.listening` line: first start (empty state) and a restart (one log file per device on disk). */
  firstStartSeconds: number;
  restartSeconds: number;
  /** Resident memory 2 s after listening (restart), after `settleMs` more (console logs started in the background, V8's memory reducer run), and the peak while starting. */
  idleRssBytes: number;
  settledRssBytes: number;
  peakRssBytes: number;
  /** Descriptors the idle relay holds (restart). */
  openFiles: number;
}

/**
 * A relay with `count` devices and `count` users configured and nothing connected: how long it
 * takes to listen, and what it holds while idle. Started twice in the same state folder, since
 * the second start finds a console-log file per device (what a production restart sees).
 */
export async function scaleStart(dir: string, count: number, settleMs: number, progress: (line: string) => void): Promise<ScaleRow> {
  progress(`scale: generating ${count} agent keys`);
  const person = await loadOrCreateKey(join(dir, 'person_ed25519'), 'bench@person');
  const ids = Array.from({ length: count }, (_, i) => `dev-${String(i + 1).padStart(5, '0')}`);
  const config = [
    'listen: { host: 127.0.0.1, port: 0 }',
    'stateDir: .',
    'adminSocket: relay.sock',
    'devices:',
    ...ids.map((id, i) => `  - { id: ${id}, agentKey: "${generateParsableEd25519(`agent@${i + 1}`).public.trim()}" }`),
    'users:',
    ...ids.map((id, i) => `  - { name: user${i + 1}, authorizedKeys: ["${person.publicKeyLine}"], devices: [${id}], role: engineer }`),
  ].join('\n');
  const start = async () => {
    const began = nowMs();
    const started = await startRelay(dir, config, 300_000);
    return { ...started, seconds: (nowMs() - began) / 1000 };
  };
  progress(`scale: starting a relay with ${count} devices and ${count} users (empty state folder)`);
  const first = await start();
  await first.relay.stop();
  progress(`scale: first start ${first.seconds.toFixed(2)} s; restarting with a console log per device on disk`);
  const second = await start();
  try {
    await new Promise((r) => setTimeout(r, 2_000));
    const memory = await memoryOf(second.relay.child.pid!);
    const openFiles = (await readdir(`/proc/${second.relay.child.pid!}/fd`)).length;
    progress(`scale: restart ${second.seconds.toFixed(2)} s, idle ${(memory.rss / 1024 / 1024).toFixed(1)} MiB, ${openFiles} open files`);
    await new Promise((r) => setTimeout(r, settleMs));
    const settled = await memoryOf(second.relay.child.pid!);
    progress(`scale: settled ${(settled.rss / 1024 / 1024).toFixed(1)} MiB after ${settleMs / 1000} s more`);
    return {
      devices: count,
      users: count,
      firstStartSeconds: first.seconds,
      restartSeconds: second.seconds,
      idleRssBytes: memory.rss,
      settledRssBytes: settled.rss,
      peakRssBytes: settled.hwm,
      openFiles,
    };
  } finally {
    await second.relay.stop();
  }
}
