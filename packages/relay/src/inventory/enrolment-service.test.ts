import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, capturedLogger } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../ssh/login-throttle.js';
import { EnrolmentService, type Enrollee } from './enrolment-service.js';
import { newEnrolmentToken } from './enrolment-token.js';
import { SqliteInventoryStore } from './sqlite-inventory-store.js';

const HOUR = 3_600_000;
const pi = (n: number): Enrollee => ({
  publicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).padStart(43, 'A')} pi`,
  fingerprint: `SHA256:pi${n}`,
  address: '192.0.2.7',
  peer: `192.0.2.7:${40_000 + n}`,
});

describe('EnrolmentService', () => {
  let dir: string;
  let store: SqliteInventoryStore;
  let clock: FakeClock;
  let log: ReturnType<typeof capturedLogger>;
  const service = (approval: 'auto' | 'manual', maxFailuresPerWindow = 10) =>
    new EnrolmentService({
      store,
      approval,
      throttle: new LoginThrottle({ failureDelayMs: 0, maxFailuresPerWindow, windowMs: HOUR }, clock),
      now: () => clock.now(),
      logger: log.logger,
    });
  const token = async (deviceId: string, ttl = HOUR) => {
    const t = newEnrolmentToken();
    await store.addToken({ deviceId, tokenHash: t.tokenHash, createdAt: clock.now(), expiresAt: clock.now() + ttl, createdBy: 'os:test' });
    return t.token;
  };
  const line = (device: string, t?: string) => JSON.stringify(t === undefined ? { device } : { device, token: t });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enrol-service-'));
    store = SqliteInventoryStore.open(join(dir, 'inventory.db'));
    clock = new FakeClock(Date.parse('2026-12-04T12:00:00Z'));
    log = capturedLogger();
    await store.putDevice({ id: 'rtr-tokyo-01', labels: {} });
    await store.putDevice({ id: 'rtr-osaka-01', labels: {} });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('binds the key with a valid token, and refuses the same token a second time', async () => {
    const s = service('auto');
    const t = await token('rtr-tokyo-01');
    expect(await s.answer(line('rtr-tokyo-01', t), pi(1))).toEqual({ result: 'enrolled' });
    expect((await store.load()).agents).toMatchObject([{ deviceId: 'rtr-tokyo-01', publicKey: pi(1).publicKey, state: 'approved' }]);
    expect(await s.answer(line('rtr-tokyo-01', t), pi(2))).toEqual({ result: 'refused', reason: 'used' });
    expect(log.lines.map((l) => l.event)).toEqual(['agent.enrolled', 'agent.enrol-refused']);
    expect(JSON.stringify(log.lines)).not.toContain(t);
  });

  it('tells each refusal apart: unknown, expired, other device', async () => {
    const s = service('auto');
    expect(await s.answer(line('rtr-tokyo-01', 'f'.repeat(32)), pi(1))).toEqual({ result: 'refused', reason: 'unknown' });
    const old = await token('rtr-tokyo-01', 1_000);
    await clock.advance(2_000);
    expect(await s.answer(line('rtr-tokyo-01', old), pi(1))).toEqual({ result: 'refused', reason: 'expired' });
    const osaka = await token('rtr-osaka-01');
    expect(await s.answer(line('rtr-tokyo-01', osaka), pi(1))).toEqual({ result: 'refused', reason: 'other-device' });
  });

  it('keeps a manually approved Pi pending; its polls need no token and enrol no one new', async () => {
    const s = service('manual');
    expect(await s.answer(line('rtr-tokyo-01', await token('rtr-tokyo-01')), pi(1))).toEqual({ result: 'pending' });
    expect(await s.answer(line('rtr-tokyo-01'), pi(1))).toEqual({ result: 'pending' });
    expect(await s.answer(line('rtr-tokyo-01'), pi(2))).toEqual({ result: 'refused', reason: 'unknown' });
    await store.setAgentState('rtr-tokyo-01', 'approved', clock.now());
    expect(await s.answer(line('rtr-tokyo-01'), pi(1))).toEqual({ result: 'enrolled' });
    await store.setAgentState('rtr-tokyo-01', 'revoked', clock.now());
    expect(await s.answer(line('rtr-tokyo-01'), pi(1))).toEqual({ result: 'refused', reason: 'revoked' });
    expect(log.lines.filter((l) => l.event === 'agent.enrolled')).toHaveLength(1);
  });

  it('refuses garbage as a failed try, logging the problem and not the line', async () => {
    const s = service('auto');
    for (const garbage of ['', 'x'.repeat(5000), '{"device":"rtr-tokyo-01","token":"\\u001b[2J"}', '[]']) {
      expect(await s.answer(garbage, pi(1))).toEqual({ result: 'refused', reason: 'unknown' });
    }
    expect(log.lines.every((l) => l.event === 'agent.enrol-refused' && l.reason === 'bad-request')).toBe(true);
    expect(JSON.stringify(log.lines)).not.toContain('xxxxxxxx');
  });

  it('throttles token guessing per address like passwords: a right token is refused once blocked', async () => {
    const s = service('auto', 3);
    for (let i = 0; i < 3; i++) await s.answer(line('rtr-tokyo-01', `${i}`.repeat(32)), pi(1));
    expect(s.isBlocked('192.0.2.7')).toBe(true);
    const good = await token('rtr-tokyo-01');
    expect(await s.answer(line('rtr-tokyo-01', good), pi(1))).toEqual({ result: 'refused', reason: 'unknown' });
    expect((await store.load()).agents).toEqual([]);
    expect(s.isBlocked('198.51.100.1')).toBe(false);
    await clock.advance(HOUR + 1);
    expect(await s.answer(line('rtr-tokyo-01', await token('rtr-tokyo-01')), pi(1))).toEqual({ result: 'enrolled' });
  });
});
