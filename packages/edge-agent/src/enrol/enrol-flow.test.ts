import { LifelineError, type EnrolAnswer, type EnrolRequest } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { runEnrolFlow, type EnrolState } from './enrol-flow.js';

const file = {
  relay: { host: 'relay.example.net', port: 443, hostKey: `SHA256:${'A'.repeat(43)}` },
  device: 'rtr-tokyo-01',
  token: '0123456789abcdef0123456789abcdef',
};

/** A relay double answering a script of outcomes in order, recording what it was asked. */
function scripted(...steps: Array<EnrolAnswer | Error>) {
  const asked: EnrolRequest[] = [];
  return {
    asked,
    request: (r: EnrolRequest) => {
      asked.push(r);
      const step = steps.shift();
      if (step === undefined) throw new Error('asked more often than scripted');
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    },
  };
}

const run = async (relay: ReturnType<typeof scripted>) => {
  const states: EnrolState[] = [];
  const sleeps: number[] = [];
  let written = 0;
  const result = await runEnrolFlow({
    file,
    request: relay.request,
    writeAgentConfig: () => Promise.resolve(void written++),
    onState: (s) => states.push(s),
    sleep: (ms) => Promise.resolve(void sleeps.push(ms)),
    backoff: { baseMs: 1_000, capMs: 8_000, random: () => 0.5 },
  });
  return { result, states, sleeps, written };
};

describe('the enrolment flow', () => {
  it('writes agent.yaml once the relay says enrolled', async () => {
    const relay = scripted({ result: 'enrolled' });
    expect(await run(relay)).toMatchObject({ result: true, states: [{ state: 'enrolled' }], written: 1 });
    expect(relay.asked).toEqual([{ device: 'rtr-tokyo-01', token: file.token }]);
  });

  it('retries an unreachable relay and a wrong host key with growing pauses, telling them apart', async () => {
    const relay = scripted(
      new LifelineError('TUNNEL_CONNECT_FAILED', 'cannot reach relay'),
      new LifelineError('TUNNEL_HOSTKEY_MISMATCH', 'relay presents SHA256:B'),
      { result: 'enrolled' },
    );
    const { result, states, sleeps } = await run(relay);
    expect(result).toBe(true);
    expect(states.map((s) => s.state)).toEqual(['unreachable', 'host-key-mismatch', 'enrolled']);
    expect(sleeps).toEqual([500, 1_000]);
    expect(relay.asked.every((r) => r.token === file.token)).toBe(true);
  });

  it('polls while pending without the spent token, until approved', async () => {
    const relay = scripted({ result: 'pending' }, { result: 'pending' }, { result: 'enrolled' });
    const { result, states, written } = await run(relay);
    expect(result).toBe(true);
    expect(states.map((s) => s.state)).toEqual(['pending', 'pending', 'enrolled']);
    expect(relay.asked.map((r) => r.token)).toEqual([file.token, undefined, undefined]);
    expect(written).toBe(1);
  });

  it('stops at a refusal, naming the reason, and writes nothing', async () => {
    for (const reason of ['unknown', 'expired', 'used', 'other-device', 'revoked'] as const) {
      const { result, states, written } = await run(scripted({ result: 'refused', reason }));
      expect(result).toBe(false);
      expect(states).toEqual([{ state: 'refused', reason }]);
      expect(written).toBe(0);
    }
  });
});
