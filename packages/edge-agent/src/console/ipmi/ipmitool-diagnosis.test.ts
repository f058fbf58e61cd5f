import { describe, expect, it } from 'vitest';
import type { IpmiSolConsoleConfig } from '@lifeline/shared';
import { consoleOpenError, diagnoseIpmitool, isLoginFailure } from './ipmitool-diagnosis.js';

const target: IpmiSolConsoleConfig = {
  type: 'ipmi-sol',
  host: '10.0.0.20',
  port: 623,
  user: 'lifeline',
  cipherSuite: 3,
  privilege: 'ADMINISTRATOR',
};

// stderr of ipmitool 1.8.19 -v as seen against ipmi_sim and in ipmitool's sources.
const chatter = 'Loading IANA PEN Registry...\nRunning Get VSO Capabilities my_addr 0x20, transit 0, target 0x20\n';
const noSession = 'Error: Unable to establish IPMI v2 / RMCP+ session\n';

function diagnose(stderr: string) {
  return diagnoseIpmitool({ stderr }, target);
}

describe('diagnoseIpmitool', () => {
  it('tells a wrong password from an unknown user and from a BMC that does not answer', () => {
    expect(diagnose(`${chatter}> RAKP 2 HMAC is invalid\n${noSession}`)).toMatchObject({
      kind: 'wrong-password',
      message: 'BMC 10.0.0.20:623 refused the login: wrong password for user "lifeline" (check passwordFile or LIFELINE_IPMI_PASSWORD)',
    });
    expect(diagnose(`${chatter}RAKP 2 message indicates an error : unauthorized name\n${noSession}`).kind).toBe('unknown-user');
    expect(
      diagnose(`${chatter}Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\n${noSession}`),
    ).toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/^BMC 10\.0\.0\.20:623 is not answering/),
    });
    expect(diagnose('Address lookup for bmc.invalid failed\nCould not open socket!\n').message).toBe(
      'BMC 10.0.0.20:623: host name 10.0.0.20 not found',
    );
  });

  it('names the cipher suite refused and how to pick another', () => {
    for (const line of [
      'Error in open session response message : invalid authentication algorithm',
      'Unsupported cipher suite ID : 99',
      'Error in open session response message : no matching cipher suite',
    ]) {
      const failure = diagnose(`${line}\n\n${noSession}`);
      expect(failure.kind, line).toBe('cipher-suite');
      expect(failure.message).toMatch(/refused cipher suite 3; set cipherSuite to one the BMC offers/);
    }
  });

  it('names the commands that enable SOL for the user', () => {
    const failure = diagnose(`${chatter}Invalid completion code received: Insufficient privilege level\nInfo: SOL payload disabled\n`);
    expect(failure.kind).toBe('sol-disabled');
    expect(failure.message).toMatch(/sol set enabled true 1.*sol payload enable 1 <userid>/);
  });

  it('does not take the vendor-probe chatter for a privilege problem', () => {
    expect(
      diagnose(
        `${chatter}Invalid completion code received: Insufficient privilege level\nInfo: SOL payload already active on another session\n`,
      ).kind,
    ).toBe('sol-in-use');
    expect(diagnose('RAKP 2 message indicates an error : unauthorized role requested\n').kind).toBe('privilege');
    expect(diagnose('Error activating SOL payload: Insufficient privilege level\n').kind).toBe('privilege');
  });

  it('says when ipmitool is missing, whether spawned directly or through stdbuf', () => {
    const enoent = Object.assign(new Error('spawn ipmitool ENOENT'), { code: 'ENOENT', path: 'ipmitool' });
    expect(diagnoseIpmitool({ stderr: '', spawnError: enoent }, target)).toEqual({
      kind: 'not-installed',
      message: 'ipmitool is not installed on the agent (apt-get install ipmitool)',
    });
    expect(diagnose("stdbuf: failed to run command 'ipmitool': No such file or directory\n").kind).toBe('not-installed');
  });

  it('quotes the last thing ipmitool said when it knows no better', () => {
    expect(diagnose(`${chatter}tcgetattr: Inappropriate ioctl for device\nSomething odd happened\n`)).toEqual({
      kind: 'other',
      message: 'BMC 10.0.0.20:623: ipmitool failed (Something odd happened)',
    });
    expect(diagnoseIpmitool({ stderr: '', timedOut: true }, target).kind).toBe('unreachable');
  });
});

describe('consoleOpenError', () => {
  it('is CONSOLE_NOT_PRESENT for a BMC that is not there, CONSOLE_OPEN_FAILED otherwise', () => {
    expect(consoleOpenError(diagnose(noSession)).code).toBe('CONSOLE_NOT_PRESENT');
    expect(consoleOpenError(diagnose('> RAKP 2 HMAC is invalid\n')).code).toBe('CONSOLE_OPEN_FAILED');
  });

  it('counts login failures apart from SOL refusals', () => {
    expect(isLoginFailure(diagnose('> RAKP 2 HMAC is invalid\n'))).toBe(true);
    expect(isLoginFailure(diagnose('Info: SOL payload disabled\n'))).toBe(false);
  });
});
