import { describe, expect, it } from 'vitest';
import { observerRights, participantRights, powerVerdict, type ConsoleRuleFacts } from './console-rules.js';

const writer: ConsoleRuleFacts = { role: 'engineer', isWriter: true, writer: 'alice', power: true };

describe('participantRights and observerRights', () => {
  it('lets the writer send BREAK and a viewer not, saying who has read-write', () => {
    expect(participantRights(writer).sendBreak).toEqual({ allowed: true });
    expect(participantRights({ ...writer, isWriter: false })).toMatchObject({
      sendBreak: { allowed: false, why: 'you are read-only (alice has read-write)' },
    });
    expect(observerRights({ ...writer, isWriter: false }).sendBreak).toMatchObject({
      allowed: false,
      why: expect.stringContaining(':watch'),
    });
  });

  it('offers no power at all on a console without a BMC', () => {
    const rights = participantRights({ ...writer, role: 'admin', power: false });
    expect(rights.powerStatus).toEqual({ allowed: false, why: 'not available, this console has no BMC', code: 'POWER_UNSUPPORTED' });
    expect(rights.powerChange).toEqual(rights.powerStatus);
  });

  it('shows an engineer power status but not the changing actions', () => {
    const rights = participantRights(writer);
    expect(powerVerdict(rights, 'status')).toEqual({ allowed: true });
    expect(powerVerdict(rights, 'cycle')).toMatchObject({ allowed: false, why: 'on/off/cycle need the supervisor role.' });
  });

  it('lets supervisors and admins change power, but not from a :watch session', () => {
    expect(participantRights({ ...writer, role: 'supervisor', isWriter: false }).powerChange).toEqual({ allowed: true });
    expect(observerRights({ ...writer, role: 'admin', isWriter: false }).powerChange.allowed).toBe(false);
  });

  it('offers power to agents that do not say whether there is a BMC (older agents)', () => {
    expect(participantRights({ ...writer, role: 'admin', power: undefined }).powerChange).toEqual({ allowed: true });
  });

  it('lets anyone take free read-write, and only supervisors take it from someone', () => {
    expect(participantRights({ ...writer, isWriter: false, writer: undefined }).takeOver).toEqual({ allowed: true });
    expect(participantRights({ ...writer, isWriter: false, writer: 'bob' }).takeOver).toMatchObject({
      allowed: false,
      why: expect.stringContaining('supervisor'),
    });
    expect(participantRights({ ...writer, role: 'supervisor', isWriter: false, writer: 'bob' }).takeOver).toEqual({ allowed: true });
    expect(participantRights(writer).takeOver).toMatchObject({ allowed: false, why: 'you already have read-write.' });
  });

  it('gives an observer power status only, whatever its role and even with read-write free', () => {
    const rights = observerRights({ role: 'admin', isWriter: false, writer: undefined, power: true });
    expect(rights.powerStatus).toEqual({ allowed: true });
    expect(rights.sendBreak.allowed).toBe(false);
    expect(rights.takeOver).toMatchObject({ allowed: false, why: expect.stringContaining('log in without it') });
    expect(rights.powerChange).toMatchObject({ allowed: false, why: expect.stringContaining(':watch') });
    expect(observerRights({ role: 'admin', isWriter: false, writer: undefined, power: false }).powerStatus).toMatchObject({
      code: 'POWER_UNSUPPORTED',
    });
  });
});
