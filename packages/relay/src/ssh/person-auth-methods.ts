import type { AuthenticationType } from 'ssh2';

/**
 * The login methods offered to a person, by the SSH client they use.
 *
 * Most clients get keyboard-interactive as well as password: some only do the former, and
 * OpenSSH shows its single hidden "Password: " prompt exactly like a password prompt. PuTTY
 * (plink, PuTTY, and the builds that keep its version string) always prefers keyboard-interactive
 * when it is offered, and PuTTY 0.78 then frames every server prompt with "Keyboard-interactive
 * authentication prompts from server:" / "End of keyboard-interactive prompts from server", even
 * when `plink -pw` answers it for the person (its anti-spoofing rule, ssh/userauth2-client.c). It
 * asks for the same password through the plain `password` method without any of that, so PuTTY
 * is not offered keyboard-interactive.
 */
export function personAuthMethods(clientSoftware: string | undefined): AuthenticationType[] {
  if (clientSoftware !== undefined && /^PuTTY/i.test(clientSoftware)) return ['publickey', 'password'];
  return ['publickey', 'keyboard-interactive', 'password'];
}
