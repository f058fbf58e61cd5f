import { stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAsciicast } from '../packages/relay/src/recording/asciicast.js';
import { LifelineSite, users } from './support/lifeline-site.js';
import { openConsoleChannel } from './support/ssh2-console.js';
import { makeTempDir } from './support/temp-dir.js';

describe('limits for people who are logged in, relay and agent as processes', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let site: LifelineSite | undefined;
  afterEach(async () => {
    await site?.stop();
    await dir?.remove();
    site = dir = undefined;
  });

  it('coalesces 20,000 window changes into a bounded number of recorded resizes, ending at the last size sent', async () => {
    dir = await makeTempDir('e2e-resize');
    site = await LifelineSite.start(dir.path, { console: '{ type: sim, hostname: rtr-1 }' });
    const c = await openConsoleChannel({ port: site.port, user: 'alice', password: users.alice.password });
    const start = await site.relay.waitForLog('session start', (l) => l.event === 'session.start' && l.user === 'alice');

    const sent = Date.now();
    let last = { cols: 0, rows: 0 };
    for (let i = 1; i <= 20_000; i++) {
      last = { cols: 80 + (i % 120), rows: 24 + (i % 40) };
      c.channel.setWindow(last.rows, last.cols, 0, 0);
    }
    // Requests and data on one channel arrive in order: once this is echoed, every change is in.
    c.write('show version\r');
    await c.waitForOutput(/Configuration register/, 30_000);
    const floodMs = Date.now() - sent;
    // The trailing change lands within one turn (100 ms at the default 10 per second).
    await new Promise((r) => setTimeout(r, 500));
    c.end();
    await c.closed;
    await site.relay.waitForLog('session end', (l) => l.event === 'session.end' && l.sessionId === start.sessionId);

    const cast = await readAsciicast(String(start.recording));
    const resizes = cast.events.filter((e) => e[1] === 'r').map((e) => e[2]);
    // At most 10 a second over the flood, plus the first and the trailing one.
    expect(resizes.length).toBeLessThanOrEqual(10 * Math.ceil((floodMs + 500) / 1_000) + 2);
    expect(resizes.length).toBeLessThan(100);
    expect(resizes.at(-1)).toBe(`${last.cols}x${last.rows}`);
    const { size } = await stat(String(start.recording));
    console.log(`20,000 window changes in ${floodMs} ms -> ${resizes.length} r events, recording ${size} bytes`);
  }, 60_000);

  it('cuts off an admin-socket client that sends thousands of requests and never reads, and goes on serving', async () => {
    dir = await makeTempDir('e2e-admin-slow');
    site = await LifelineSite.start(dir.path, {
      console: '{ type: sim, hostname: rtr-1 }',
      relayExtra: 'limits: { adminQueueBytes: 65536 }',
    });
    const socket = createConnection(join(dir.path, 'relay.sock'));
    socket.pause(); // never reads
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('{"command":"devices"}\n'.repeat(50_000));
    const cut = await site.relay.waitForLog('admin client cut off', (l) => l.event === 'admin.slow-client', 30_000);
    expect(cut).toMatchObject({ limit: 65_536 });
    expect(cut.queuedBytes as number).toBeGreaterThan(65_536);
    expect(cut.queuedBytes as number).toBeLessThan(65_536 + 64 * 1024);
    socket.destroy();
    expect(site.relay.logs.filter((l) => l.event === 'admin.slow-client')).toHaveLength(1);
    // Still serving people and admin commands.
    const c = await openConsoleChannel({ port: site.port, user: 'alice', password: users.alice.password });
    c.write('show version\r');
    await c.waitForOutput(/Configuration register/);
    c.end();
  }, 60_000);
});
