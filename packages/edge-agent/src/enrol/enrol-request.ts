import {
  ENROL_SUBSYSTEM,
  LifelineError,
  MAX_ENROL_LINE_BYTES,
  enrolLine,
  parseEnrolAnswer,
  type EnrolAnswer,
  type EnrolRequest,
} from '@lifeline/shared/core';
import type { RelayAddress, RelayDialer } from '../tunnel/relay-dialer.js';

/**
 * One enrolment exchange (docs/protocol.md, "Enrolment") over a dialer made with
 * `username: 'lifeline-enrol'`, the Pi's NEW key and the fingerprint from the enrolment file:
 * logs in, opens the subsystem, sends the request line, reads the answer line, hangs up.
 *
 * @throws what RelayDialer.dial throws (TUNNEL_HOSTKEY_MISMATCH, TUNNEL_CONNECT_FAILED, ...), and
 * TUNNEL_CLOSED when the relay refuses the subsystem, answers nothing usable or not within `timeoutMs`.
 */
export async function requestEnrolment(
  dialer: RelayDialer,
  target: RelayAddress,
  request: EnrolRequest,
  timeoutMs: number,
): Promise<EnrolAnswer> {
  const { client } = await dialer.dial(target);
  try {
    return await new Promise<EnrolAnswer>((resolve, reject) => {
      const fail = (why: string) => reject(new LifelineError('TUNNEL_CLOSED', `relay did not answer the enrolment: ${why}`));
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      client.once('close', () => fail('connection closed'));
      client.subsys(ENROL_SUBSYSTEM, (err, channel) => {
        if (err) {
          clearTimeout(timer);
          return fail(`subsystem refused (${err.message})`);
        }
        let text = '';
        channel.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          const nl = text.indexOf('\n');
          if (nl === -1 && text.length <= MAX_ENROL_LINE_BYTES) return;
          clearTimeout(timer);
          const answer = nl === -1 ? undefined : parseEnrolAnswer(text.slice(0, nl));
          if (answer) resolve(answer);
          else fail('not an enrolment answer');
        });
        channel.on('close', () => {
          clearTimeout(timer);
          fail('channel closed without an answer');
        });
        channel.write(enrolLine(request));
      });
    });
  } finally {
    client.end();
  }
}
