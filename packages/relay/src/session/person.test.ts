import { describe, expect, it } from 'vitest';
import { newPerson, nextConsoleSession, personLogFields, type Person } from './person.js';

const alice = newPerson({ user: 'alice', sessionId: '0f0e0d0c-aaaa', peer: '192.0.2.7:50123', attachAs: 'participant' });

describe('a Person: who one console session is, as one value', () => {
  it('keeps exactly what the login gave it, and nothing else that came along', () => {
    const withExtra = {
      user: 'sue',
      sessionId: 's-2',
      peer: '192.0.2.8:4000',
      attachAs: 'observer',
      role: 'admin',
      password: 'x',
    } as const;
    const sue = newPerson(withExtra);
    expect(sue).toEqual({ user: 'sue', sessionId: 's-2', peer: '192.0.2.8:4000', attachAs: 'observer' });
    expect(Object.keys(sue)).not.toContain('role');
  });

  it('cannot be changed once made (a reload, a menu choice or a bug cannot rewrite who someone is)', () => {
    expect(Object.isFrozen(alice)).toBe(true);
    expect(() => {
      (alice as { user: string }).user = 'mallory';
    }).toThrow(TypeError);
    expect(alice.user).toBe('alice');
  });

  it('makes a second console session of the same login a new value that differs only in its session id', () => {
    const second = nextConsoleSession(alice, '1f1e1d1c-bbbb');
    expect(second).not.toBe(alice);
    expect(Object.isFrozen(second)).toBe(true);
    expect(second).toEqual({ ...alice, sessionId: '1f1e1d1c-bbbb' });
    expect(alice.sessionId).toBe('0f0e0d0c-aaaa');
  });

  it('keeps the kind of attachment in the type, so the broker can hand out the matching attachment', () => {
    const observer: Person<'observer'> = newPerson({ user: 'sue', sessionId: 's', peer: 'p', attachAs: 'observer' });
    const kept: Person<'observer'> = nextConsoleSession(observer, 't');
    expect(kept.attachAs).toBe('observer');
  });
});

describe('personLogFields: how every log and audit line names a person', () => {
  it('gives user, session id, peer and kind of attachment, taken from the person', () => {
    expect(personLogFields(alice)).toEqual({ user: 'alice', sessionId: '0f0e0d0c-aaaa', peer: '192.0.2.7:50123', attachAs: 'participant' });
  });

  it('names a second console session by its own session id, and an observer as one', () => {
    const watcher = newPerson({ user: 'sue', sessionId: 's-1', peer: '192.0.2.8:4000', attachAs: 'observer' });
    expect(personLogFields(nextConsoleSession(watcher, 's-2'))).toEqual({
      user: 'sue',
      sessionId: 's-2',
      peer: '192.0.2.8:4000',
      attachAs: 'observer',
    });
  });

  it('gives a fresh object each time, so a caller that adds to its line changes no other line', () => {
    const a = personLogFields(alice);
    (a as Record<string, unknown>).extra = 1;
    expect(personLogFields(alice)).not.toHaveProperty('extra');
  });
});
