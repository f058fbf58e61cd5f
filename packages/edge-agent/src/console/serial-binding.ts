import { autoDetect } from '@serialport/bindings-cpp';

/**
 * The slice of node-serialport's BindingInterface (@serialport/bindings-cpp) a SerialConsolePort
 * uses. The default is the platform binding `serialport` itself uses; tests pass a wrapped
 * `@serialport/binding-mock` to see and fail `set()` calls.
 */
export interface SerialBinding {
  open(options: SerialOpenOptions): Promise<SerialBindingPort>;
}

export interface SerialOpenOptions {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  stopBits: 1 | 1.5 | 2;
  /** bindings-cpp on Linux and macOS knows only these three. */
  parity: 'none' | 'even' | 'odd';
  rtscts: boolean;
  xon: boolean;
  xoff: boolean;
  /** Exclusive use (TIOCEXCL + flock): a second program cannot open the port underneath us. */
  lock: boolean;
}

/** An open port. Every method rejects once the port is closed; reads and writes cut short by close carry `canceled: true`. */
export interface SerialBindingPort {
  readonly isOpen: boolean;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  /** Resolves once every byte is handed to the OS. Never called while another write is pending. */
  write(buffer: Buffer): Promise<void>;
  /** Sets BREAK and the modem lines; every line not given is set to its default, see SerialConsolePort. */
  set(options: { brk: boolean; dtr: boolean; rts: boolean }): Promise<void>;
  /** Reads the modem status lines; fails on a tty that has none (a pty). */
  get(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The real binding for this platform, as `serialport` 13 picks it (bindings-cpp's autoDetect),
 * without the `serialport` package itself: its stream class, ten parsers and mock are code the
 * agent never runs but would load and keep (issue 11, agent memory).
 */
export function platformSerialBinding(): SerialBinding {
  return autoDetect();
}
