import { LifelineError, type EnrolAnswer, type EnrolRequest } from '@lifeline/shared';
import { describe, expect, it } from 'vitest';
import { runEnrolFlow, type EnrolState } from './enrol-flow.js';

const file = {
  relay: { host: 'relay.example.net', port: 443, hostKey: `SHA256:${'A'.repeat(43)}` },
  device: 'rtr-tokyo-01',
  token: '0123456789abcdef0123456789abcdef',
  status: { led: { type: 'none' as const } },
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

const run = async (relay: Pick<ReturnType<typeof scripted>, 'request'>, signal?: AbortSignal) => {
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
    ...(signal ? { signal } : {}),
  });
  return { result, states, sleeps, written };
};

describe('the enrolment flow', () => {
  it('writes agent.yaml once the relay says enrolled', async () => {
    const relay = scripted({ result: 'enrolled' });
    expect(await run(relay)).toMatchObject({ result: 'enrolled', states: [{ state: 'enrolled' }], written: 1 });
    expect(relay.asked).toEqual([{ device: 'rtr-tokyo-01', token: file.token }]);
  });

  it('retries an unreachable relay and a wrong host key with growing pauses, telling them apart', async () => {
    const relay = scripted(
      new LifelineError('TUNNEL_CONNECT_FAILED', 'cannot reach relay'),
      new LifelineError('TUNNEL_HOSTKEY_MISMATCH', 'relay presents SHA256:B'),
      { result: 'enrolled' },
    );
    const { result, states, sleeps } = await run(relay);
    expect(result).toBe('enrolled');
    expect(states.map((s) => s.state)).toEqual(['unreachable', 'host-key-mismatch', 'enrolled']);
    expect(sleeps).toEqual([500, 1_000]);
    expect(relay.asked.every((r) => r.token === file.token)).toBe(true);
  });

  it('polls while pending without the spent token, until approved', async () => {
    const relay = scripted({ result: 'pending' }, { result: 'pending' }, { result: 'enrolled' });
    const { result, states, written } = await run(relay);
    expect(result).toBe('enrolled');
    expect(states.map((s) => s.state)).toEqual(['pending', 'pending', 'enrolled']);
    expect(relay.asked.map((r) => r.token)).toEqual([file.token, undefined, undefined]);
    expect(written).toBe(1);
  });

  it('stops at a refusal, naming the reason, and writes nothing', async () => {
    for (const reason of ['unknown', 'expired', 'used', 'other-device', 'revoked'] as const) {
      const { result, states, written } = await run(scripted({ result: 'refused', reason }));
      expect(result).toBe('refused');
      expect(states).toEqual([{ state: 'refused', reason }]);
      expect(written).toBe(0);
    }
  });

  it('stops at once when aborted during an exchange that never answers, writing nothing', async () => {
    const stop = new AbortController();
    const hanging = { request: () => new Promise<EnrolAnswer>(() => undefined) };
    const running = run(hanging, stop.signal);
    await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    expect(await running).toMatchObject({ result: 'stopped', states: [], written: 0 });
  });

  it('stops when aborted while waiting for approval, without asking again', async () => {
    const stop = new AbortController();
    const relay = scripted({ result: 'pending' });
    const asked = relay.request;
    let calls = 0;
    const counting = {
      request: (r: EnrolRequest) => {
        calls++;
        if (calls === 1) queueMicrotask(() => stop.abort());
        return asked(r);
      },
    };
    const { result, states } = await run(counting, stop.signal);
    expect(result).toBe('stopped');
    expect(states.map((s) => s.state)).toEqual(['pending']);
    expect(calls).toBe(1);
  });
});
