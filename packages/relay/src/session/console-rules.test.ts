import { describe, expect, it } from 'vitest';
import { consoleRights, powerVerdict, type ConsoleRuleFacts } from './console-rules.js';

const writer: ConsoleRuleFacts = { role: 'engineer', watch: false, isWriter: true, writer: 'alice', power: true };

describe('consoleRights', () => {
  it('lets the writer send BREAK and a viewer not, saying who has read-write', () => {
    expect(consoleRights(writer).sendBreak).toEqual({ allowed: true });
    expect(consoleRights({ ...writer, isWriter: false })).toMatchObject({
      sendBreak: { allowed: false, why: 'you are read-only (alice has read-write)' },
    });
    expect(consoleRights({ ...writer, isWriter: false, watch: true }).sendBreak).toMatchObject({
      allowed: false,
      why: expect.stringContaining(':watch'),
    });
  });

  it('offers no power at all on a console without a BMC', () => {
    const rights = consoleRights({ ...writer, role: 'admin', power: false });
    expect(rights.powerStatus).toEqual({ allowed: false, why: 'not available, this console has no BMC', code: 'POWER_UNSUPPORTED' });
    expect(rights.powerChange).toEqual(rights.powerStatus);
  });

  it('shows an engineer power status but not the changing actions', () => {
    const rights = consoleRights(writer);
    expect(powerVerdict(rights, 'status')).toEqual({ allowed: true });
    expect(powerVerdict(rights, 'cycle')).toMatchObject({ allowed: false, why: 'on/off/cycle need the supervisor role.' });
  });

  it('lets supervisors and admins change power, but not from a :watch session', () => {
    expect(consoleRights({ ...writer, role: 'supervisor', isWriter: false }).powerChange).toEqual({ allowed: true });
    expect(consoleRights({ ...writer, role: 'admin', watch: true, isWriter: false }).powerChange.allowed).toBe(false);
  });

  it('offers power to agents that do not say whether there is a BMC (older agents)', () => {
    expect(consoleRights({ ...writer, role: 'admin', power: undefined }).powerChange).toEqual({ allowed: true });
  });

  it('lets anyone take free read-write, and only supervisors take it from someone', () => {
    expect(consoleRights({ ...writer, isWriter: false, writer: undefined }).takeOver).toEqual({ allowed: true });
    expect(consoleRights({ ...writer, isWriter: false, writer: 'bob' }).takeOver).toMatchObject({
      allowed: false,
      why: expect.stringContaining('supervisor'),
    });
    expect(consoleRights({ ...writer, role: 'supervisor', isWriter: false, writer: 'bob' }).takeOver).toEqual({ allowed: true });
    expect(consoleRights(writer).takeOver).toMatchObject({ allowed: false, why: 'you already have read-write.' });
  });
});
