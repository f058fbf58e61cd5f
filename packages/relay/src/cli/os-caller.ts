import { userInfo } from 'node:os';

/**
 * Who runs an admin command, as the audit log names them: `os:alice`, or `os:root (sudo by alice)`
 * when sudo says who called it (SUDO_USER). The admin socket is mode 0600, so only root and the
 * relay's own user can connect at all; beyond that this is the client's claim, as trustworthy
 * as the socket (Node.js cannot read the peer's uid, SO_PEERCRED, from a Unix socket).
 */
export function osCaller(env: NodeJS.ProcessEnv = process.env, username: () => string = () => userInfo().username): string {
  let name: string;
  try {
    name = username();
  } catch {
    // A uid without a passwd entry (a container's arbitrary uid).
    name = `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudoBy = env.SUDO_USER;
  return sudoBy && sudoBy !== name ? `os:${name} (sudo by ${sudoBy})` : `os:${name}`;
}
