import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodePowerAnswer, encodePowerRequest, silentLogger } from '@lifeline/shared';
import { answerPowerRequest, type PowerHandler } from './power-responder.js';

/** Sends `request` to the responder and resolves with its answer line. */
function ask(request: Buffer | string, handler: PowerHandler): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
      final(cb) {
        resolve(out.trim());
        cb();
      },
    });
    answerPowerRequest(stream, 'srv-1', handler, silentLogger());
    stream.push(request);
  });
}

describe('answerPowerRequest', () => {
  it('runs the action and answers with the BMC text', async () => {
    const done: string[] = [];
    const line = await ask(encodePowerRequest('cycle'), async (a) => (done.push(a), 'Chassis Power Control: Cycle'));
    expect(decodePowerAnswer(line)).toEqual({ ok: true, text: 'Chassis Power Control: Cycle' });
    expect(done).toEqual(['cycle']);
  });

  it('says unsupported for a console without a BMC', async () => {
    expect(await ask(encodePowerRequest('status'), undefined)).toMatch(/^ERR unsupported: srv-1 has no power control/);
  });

  it('passes a failure back as one line, and refuses garbage', async () => {
    const failed = await ask(encodePowerRequest('on'), async () => {
      throw new Error('BMC 10.0.0.9 unreachable\nretry later');
    });
    expect(failed).toBe('ERR BMC 10.0.0.9 unreachable retry later');
    expect(await ask('POWER explode\n', async () => 'x')).toBe('ERR not a power request');
  });
});
