import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../tunnel/agent-registry.js';
import { deviceOverview } from './device-overview.js';

const online: DeviceStatus = {
  deviceId: 'rtr-1',
  online: true,
  since: '2026-01-01T00:00:00.000Z',
  peer: '10.0.0.1:5000',
  agentVersion: 'lifelineAgent_0.2.0',
  lastCheck: undefined,
};

describe('deviceOverview', () => {
  it('is ok when online with its console up', () => {
    expect(deviceOverview(online, { state: 'up', kind: 'serial', line: '9600 8N1', power: false })).toMatchObject({
      health: 'ok',
      console: { kind: 'serial', line: '9600 8N1' },
    });
  });

  it('is not ok when the agent is up but its USB adapter is unplugged', () => {
    const o = deviceOverview(
      { ...online, lastCheck: { at: online.since!, ok: true, rttMs: 3 } },
      { state: 'down', message: 'serial port /dev/ttyUSB0 is not present; retrying every 5 s', kind: 'serial' },
    );
    expect(o.health).toBe('console-down');
    expect(o.healthDetail).toBe('serial port /dev/ttyUSB0 is not present; retrying every 5 s');
  });

  it('reports a failed health check when the console itself is up', () => {
    const o = deviceOverview({ ...online, lastCheck: { at: online.since!, ok: false, error: 'timeout' } }, { state: 'up' });
    expect(o).toMatchObject({ health: 'check-failed', healthDetail: 'timeout' });
  });

  it('is offline without a tunnel, whatever the agent said last', () => {
    expect(deviceOverview({ ...online, online: false }, { state: 'up', kind: 'sim' })).toMatchObject({
      health: 'offline',
      console: { kind: 'sim' },
    });
  });

  it('is unknown while an online agent has not described its console', () => {
    expect(deviceOverview(online, undefined)).toMatchObject({ health: 'unknown', console: undefined });
  });

  it('is pending-approval while its enrolled agent waits for lifeline-relay approve, and says so in the overview', () => {
    expect(deviceOverview({ ...online, online: false, since: undefined }, undefined, 'pending')).toMatchObject({
      health: 'pending-approval',
      enrolment: 'pending',
    });
  });

  it('is revoked when its enrolled agent was revoked', () => {
    expect(deviceOverview({ ...online, online: false }, { state: 'up' }, 'revoked')).toMatchObject({
      health: 'revoked',
      enrolment: 'revoked',
    });
  });

  it('goes by the tunnel once an approved agent is online', () => {
    const o = deviceOverview(online, { state: 'up' }, 'approved');
    expect(o).toMatchObject({ health: 'ok', enrolment: 'approved' });
  });
});
