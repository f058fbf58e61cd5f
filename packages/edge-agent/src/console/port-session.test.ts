import { describe, expect, it } from 'vitest';
import { isLifelineError, silentLogger } from '@lifeline/shared';
import { PortSessions } from './port-session.js';

function sessions() {
  const released: string[] = [];
  const s = new PortSessions<{ name: string }>({
    description: 'test port',
    logger: silentLogger(),
    readQueueBytes: 4,
    release: (session, how) => void released.push(`${session.resource.name}:${how}`),
  });
  return { s, released };
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );

describe('PortSessions', () => {
  it('delivers output read before a loss, then rejects with CONSOLE_DISCONNECTED, also for writes', async () => {
    const { s, released } = sessions();
    let session!: ReturnType<typeof s.active>;
    await s.open(async (o) => void (session = o.begin({ name: 'a' })));
    session.queue.push(Buffer.from('x'));
    s.lose(session, 'test port was disconnected');
    expect((await s.read()).toString()).toBe('x');
    expect(isLifelineError(await errorOf(s.read()), 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(isLifelineError(await errorOf(Promise.resolve().then(() => s.active())), 'CONSOLE_DISCONNECTED')).toBe(true);
    expect(released).toEqual(['a:lost']);
    expect(s.isOpen).toBe(false);
  });

  it('abandons an open when closed meanwhile: the open rejects CONSOLE_CANCELED and what it opened is released', async () => {
    const { s, released } = sessions();
    let device!: () => void;
    const opening = s.open(async (o) => {
      await new Promise<void>((resolve) => (device = resolve));
      o.begin({ name: 'late' });
    });
    await new Promise((r) => setTimeout(r, 10));
    const closing = s.close();
    device();
    expect(isLifelineError(await errorOf(opening), 'CONSOLE_CANCELED')).toBe(true);
    await closing;
    expect(released).toEqual(['late:closed']);
    expect(s.isOpen).toBe(false);
  });

  it('pauses a source while the queue is full and resumes it once read', async () => {
    const { s } = sessions();
    let session!: ReturnType<typeof s.active>;
    await s.open(async (o) => void (session = o.begin({ name: 'a' })));
    const calls: string[] = [];
    const source = { pause: () => calls.push('pause'), resume: () => calls.push('resume') };
    session.deliver(Buffer.from('12345'), source);
    session.deliver(Buffer.from('6'), source);
    expect(calls).toEqual(['pause']);
    await s.read();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['pause', 'resume']);
  });
});
