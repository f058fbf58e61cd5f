import { describe, expect, it } from 'vitest';
import { LifelineError } from '@lifeline/shared';
import { AgentStatus } from './agent-status.js';
import type { IndicatorState, StatusIndicator } from './led/status-indicator.js';

class FakeIndicator implements StatusIndicator {
  states: IndicatorState[] = [];
  traffics = 0;
  setState(state: IndicatorState): void {
    if (this.states.at(-1) !== state) this.states.push(state);
  }
  traffic(): void {
    this.traffics++;
  }
  async close(): Promise<void> {}
}

const passed = { deviceId: 'rtr-1', ok: true, rttMs: 12, at: 0 };
const failed = { deviceId: 'rtr-1', ok: false, error: 'no answer', at: 0 };

describe('AgentStatus', () => {
  it('goes start -> tunnel up -> check passed -> link frozen -> recovered as searching, healthy, searching, healthy', () => {
    const led = new FakeIndicator();
    const status = new AgentStatus(led);
    status.console('rtr-1', { state: 'up' });
    status.tunnel('connecting');
    status.tunnel('connected');
    expect(led.states).toEqual(['searching']); // up, but not proven yet
    status.health(passed);
    status.traffic();
    status.tunnel('backoff', new LifelineError('TUNNEL_CLOSED', 'connection to the relay closed'));
    status.tunnel('connecting');
    status.tunnel('connected');
    status.health(passed);
    expect(led.states).toEqual(['searching', 'healthy', 'searching', 'healthy']);
    expect(led.traffics).toBe(1);
  });

  it('shows a fault for a host key mismatch, which retrying will not fix', () => {
    const led = new FakeIndicator();
    const status = new AgentStatus(led);
    status.tunnel('backoff', new LifelineError('TUNNEL_HOSTKEY_MISMATCH', 'relay presented another key'));
    expect(led.states).toEqual(['fault']);
  });

  it('shows a fault while the serial port is missing, even with the tunnel healthy', () => {
    const led = new FakeIndicator();
    const status = new AgentStatus(led);
    status.tunnel('connected');
    status.health(passed);
    status.console('rtr-1', { state: 'down', message: 'serial port /dev/ttyUSB0 is not present' });
    status.console('rtr-1', { state: 'up' });
    expect(led.states).toEqual(['searching', 'healthy', 'fault', 'healthy']);
  });

  it('does not show healthy after a failed check', () => {
    const led = new FakeIndicator();
    const status = new AgentStatus(led);
    status.tunnel('connected');
    status.health(passed);
    status.health(failed);
    expect(led.states).toEqual(['searching', 'healthy', 'searching']);
  });
});

describe('AgentStatus while enrolling', () => {
  it('tells cannot-reach, wrong fingerprint, waiting for approval and each refusal apart', () => {
    const shown = (state: Parameters<AgentStatus['enrolment']>[0]) => {
      const led = new FakeIndicator();
      new AgentStatus(led).enrolment(state);
      return led.states;
    };
    expect(shown({ state: 'unreachable', detail: 'ECONNREFUSED' })).toEqual(['searching']);
    expect(shown({ state: 'host-key-mismatch', detail: 'SHA256:x' })).toEqual(['fault']);
    expect(shown({ state: 'pending' })).toEqual(['waiting-approval']);
    const refusals = (['unknown', 'expired', 'used', 'other-device', 'revoked'] as const).map(
      (reason) => shown({ state: 'refused', reason })[0],
    );
    expect(refusals).toEqual([
      'refused-unknown-token',
      'refused-expired-token',
      'refused-used-token',
      'refused-other-device',
      'refused-revoked',
    ]);
  });

  it('leaves the enrolment state behind once the tunnel starts', () => {
    const led = new FakeIndicator();
    const status = new AgentStatus(led);
    status.enrolment({ state: 'pending' });
    status.enrolment({ state: 'enrolled' });
    status.tunnel('connected');
    status.health(passed);
    expect(led.states).toEqual(['waiting-approval', 'searching', 'healthy']);
  });
});
