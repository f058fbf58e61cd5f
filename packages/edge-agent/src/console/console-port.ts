/**
 * One device console as the agent sees it, whatever carries it: a USB serial adapter, a terminal
 * server over Telnet/RFC 2217, the demo's simulated router, later IPMI Serial-over-LAN.
 *
 * Modelled on node-serialport's BindingInterface: a small promise-based surface, the same contract
 * suite (console-port.contract.ts) run against every implementation and the in-memory double.
 *
 * Lifecycle: `open()` -> any number of `read()`/`write()`/`setBreak()` -> `close()`. A port may be
 * opened again after it closed or was lost (the agent reopens a replugged USB adapter this way).
 */
export interface ConsolePort {
  /** What a person at the console is told this is, e.g. `serial port /dev/ttyUSB0`. */
  readonly description: string;

  readonly isOpen: boolean;

  /**
   * Opens the console. Throws LifelineError `CONSOLE_NOT_PRESENT` when the device is not there
   * (USB adapter unplugged, terminal server refusing), `CONSOLE_OPEN_FAILED` for anything else.
   * Both are retryable. Throws if already open.
   */
  open(): Promise<void>;

  /**
   * Resolves with the next chunk of output from the device (never empty). Only one read may be
   * pending at a time. Rejects with `CONSOLE_CANCELED` when `close()` is called, and with
   * `CONSOLE_DISCONNECTED` when the device went away (adapter unplugged, connection dropped); after
   * that the port is closed and may be opened again.
   */
  read(): Promise<Buffer>;

  /**
   * Sends bytes to the device unchanged (all 256 values). Resolves when the port has taken them,
   * so a caller that awaits each write gets backpressure. Rejects with `CONSOLE_CANCELED` when
   * closed, `CONSOLE_DISCONNECTED` when the device went away, `CONSOLE_WRITE_FAILED` otherwise.
   */
  write(data: Buffer): Promise<void>;

  /**
   * Raises (`true`) or clears (`false`) a BREAK condition on the line. Implementations that can
   * only pulse a break (Telnet IAC BREAK, IPMI SOL) send it on `true` and ignore `false`.
   * Rejects with `CONSOLE_BREAK_FAILED` when the hardware refuses (e.g. a USB adapter without
   * break support); the port stays usable.
   */
  setBreak(on: boolean): Promise<void>;

  /** Closes the port; a pending read rejects with `CONSOLE_CANCELED`. Harmless when closed. */
  close(): Promise<void>;
}
