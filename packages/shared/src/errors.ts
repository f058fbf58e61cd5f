/**
 * The one error class of lifeline. Code decides, never the message text:
 * callers branch on `code` (or the guards below), people read `message`.
 */
export const ErrorCodes = [
  // Configuration: exit 78, no restart loop.
  'CONFIG_UNREADABLE',
  'CONFIG_INVALID',
  // Starting a daemon: each maps to its own exit code (ExitCode, exitCodeFor).
  'USAGE',
  'STARTUP_PORT_IN_USE',
  'STARTUP_PORT_PRIVILEGED',
  'STARTUP_CANNOT_CREATE',
  // Authentication and authorisation of SSH logins.
  'AUTH_FAILED',
  'AUTH_THROTTLED',
  // Mapping a login to a device.
  'ROUTE_DEVICE_UNAVAILABLE',
  'ROUTE_DEVICE_OFFLINE',
  // What a person attached to a console may do (read-only, takeover by role).
  'SESSION_NOT_PERMITTED',
  // Agent <-> relay tunnel.
  'TUNNEL_HOSTKEY_MISMATCH',
  'TUNNEL_CONNECT_FAILED',
  'TUNNEL_AUTH_REJECTED',
  'TUNNEL_FORWARD_REJECTED',
  'TUNNEL_CLOSED',
  'TUNNEL_UNHEALTHY',
  // Console ports on the agent.
  'CONSOLE_NOT_PRESENT',
  'CONSOLE_OPEN_FAILED',
  'CONSOLE_DISCONNECTED',
  'CONSOLE_CANCELED',
  'CONSOLE_BREAK_FAILED',
  'CONSOLE_WRITE_FAILED',
  // Power control of a device through its BMC.
  'POWER_UNSUPPORTED',
  'POWER_FAILED',
  // Relay <-> agent stream protocol.
  'PROTOCOL_VIOLATION',
  // Keys on disk.
  'KEY_UNREADABLE',
  'KEY_INSECURE_MODE',
  // Session recordings (asciicast files).
  'RECORDING_INVALID',
  // Another member of the relay group did not send a recording (replay on any member).
  'RECORDING_UNAVAILABLE',
  // The relay's local admin socket (`lifeline-relay sessions`).
  'ADMIN_SOCKET_IN_USE',
  'ADMIN_SOCKET_FAILED',
  'ADMIN_UNREACHABLE',
  'ADMIN_COMMAND_FAILED',
  // The agent's status LED (the agent falls back to logging the pattern).
  'STATUS_LED_UNAVAILABLE',
  // The relay's inventory store (SQLite or PostgreSQL).
  'INVENTORY_UNAVAILABLE',
  'INVENTORY_SCHEMA_TOO_NEW',
  // Relay groups (several relays sharing one PostgreSQL store).
  'GROUP_HOSTKEY_MISMATCH',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class LifelineError extends Error {
  override readonly name = 'LifelineError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isLifelineError(err: unknown, code?: ErrorCode): err is LifelineError {
  return err instanceof LifelineError && (code === undefined || err.code === code);
}

/** Conditions that may clear by themselves: worth another try after a backoff. */
const retryable: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TUNNEL_CONNECT_FAILED',
  'TUNNEL_CLOSED',
  'TUNNEL_UNHEALTHY',
  'CONSOLE_NOT_PRESENT',
  'CONSOLE_OPEN_FAILED',
  'CONSOLE_DISCONNECTED',
]);

export function isRetryable(err: unknown): boolean {
  return isLifelineError(err) && retryable.has(err.code);
}

/** True when a console read or write ended because the port was closed on purpose. */
export function isCanceled(err: unknown): boolean {
  return isLifelineError(err, 'CONSOLE_CANCELED');
}

export function isConfigError(err: unknown): boolean {
  return isLifelineError(err, 'CONFIG_INVALID') || isLifelineError(err, 'CONFIG_UNREADABLE');
}

/**
 * Process exit codes shared by both binaries (sysexits.h). Every code but crash is the operator's
 * to fix, so systemd units set `RestartPreventExitStatus=64 69 73 77 78`: no restart loop.
 */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure: worth a restart. */
  crash: 1,
  /** EX_USAGE: bad command line (unknown command, missing or bad flag). */
  usage: 64,
  /** EX_UNAVAILABLE: the listen port is taken, or Node.js is too old. */
  unavailable: 69,
  /** EX_CANTCREAT: a folder or file it must create or write cannot be. */
  cantCreate: 73,
  /** EX_NOPERM: the port needs privilege (CAP_NET_BIND_SERVICE). */
  noPerm: 77,
  /** EX_CONFIG: bad config, key file or password hash. */
  badConfig: 78,
} as const;

const exitCodes: Partial<Record<ErrorCode, number>> = {
  USAGE: ExitCode.usage,
  CONFIG_UNREADABLE: ExitCode.badConfig,
  CONFIG_INVALID: ExitCode.badConfig,
  KEY_UNREADABLE: ExitCode.badConfig,
  KEY_INSECURE_MODE: ExitCode.badConfig,
  STARTUP_PORT_IN_USE: ExitCode.unavailable,
  STARTUP_PORT_PRIVILEGED: ExitCode.noPerm,
  STARTUP_CANNOT_CREATE: ExitCode.cantCreate,
  ADMIN_SOCKET_IN_USE: ExitCode.unavailable,
  ADMIN_SOCKET_FAILED: ExitCode.cantCreate,
  // A database written by a newer relay: the operator upgrades this one (or restores a backup).
  INVENTORY_SCHEMA_TOO_NEW: ExitCode.badConfig,
  INVENTORY_UNAVAILABLE: ExitCode.unavailable,
  // Every relay of a group serves one host key (agents and people pin it): the operator copies it.
  GROUP_HOSTKEY_MISMATCH: ExitCode.badConfig,
};

/**
 * The exit code for an error that ends a start, by its code: an operator's mistake gets its
 * sysexits code (and one line, no stack trace); anything else is undefined, a crash.
 */
export function exitCodeFor(err: unknown): number | undefined {
  return isLifelineError(err) ? exitCodes[err.code] : undefined;
}
