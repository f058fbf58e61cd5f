import { makeFolder, type Logger } from '@lifeline/shared/core';
import type { DeviceConsoleLog } from '../session/device-hub.js';
import { ConsoleLog, type ConsoleLogOptions } from './console-log.js';
import { OpenLogFiles, RELAY_OPEN_LOG_FILES } from './console-log-file.js';
import { listRotatedLogFiles } from './log-files.js';

/**
 * Every device's continuous console log. The devices known at start are created together after
 * the bind (`openAll`: the folder is listed once, not once per device, and each log starts in the
 * background through the disk gate and opens its file only to write); a device added later by a reload gets its log when its hub first asks
 * (`for`), and a removed device's log is closed. What a hub writes before its log is open is
 * dropped (nothing can come then: no agent is connected before the relay listens, and a new
 * device's log opens as its hub is made).
 */
export class DeviceConsoleLogs {
  private readonly logs = new Map<string, ConsoleLog>();
  private readonly opening = new Map<string, Promise<void>>();
  private started = false;

  private readonly openFiles = new OpenLogFiles(RELAY_OPEN_LOG_FILES);

  /**
   * `writes`: whether this relay writes a device's log file now; in a relay group only one member
   * does (group/console-log-holders.ts) and the others keep the scrollback. Always, without it.
   */
  constructor(
    private readonly options: Omit<ConsoleLogOptions, 'deviceId'>,
    private readonly writes: (deviceId: string) => boolean = () => true,
  ) {}

  /** Creates the logs of the devices known at start; throws what ConsoleLog.create throws. */
  async openAll(deviceIds: Iterable<string>): Promise<void> {
    const ids = [...deviceIds];
    const rotated = ids.length > 0 ? await listRotatedLogFiles(this.options.dir) : new Map<string, number[]>();
    for (const id of ids) {
      this.logs.set(id, ConsoleLog.create({ ...this.options, deviceId: id, openFiles: this.openFiles, rotated: rotated.get(id) ?? [] }));
    }
    this.started = true;
  }

  /** The device's log as its hub uses it; opens it (in the background) when it is not open yet. */
  for(deviceId: string): DeviceConsoleLog {
    if (this.started && !this.logs.has(deviceId) && !this.opening.has(deviceId)) this.openLater(deviceId);
    return {
      append: (chunk) => {
        const log = this.logs.get(deviceId);
        if (this.writes(deviceId)) log?.append(chunk);
        else log?.remember(chunk);
      },
      note: (text) => this.noteOne(deviceId, text),
      joinScrollback: () => this.logs.get(deviceId)?.joinScrollback() ?? Buffer.alloc(0),
    };
  }

  noteAll(text: string): void {
    for (const deviceId of this.logs.keys()) this.noteOne(deviceId, text);
  }

  private noteOne(deviceId: string, text: string): void {
    const log = this.logs.get(deviceId);
    if (this.writes(deviceId)) log?.note(text);
    else log?.rememberNote(text);
  }

  /** The device left the inventory: its log is closed (the files stay). */
  async close(deviceId: string, note?: string): Promise<void> {
    const log = this.logs.get(deviceId);
    this.logs.delete(deviceId);
    if (note) log?.note(note);
    await log?.close();
  }

  async closeAll(): Promise<void> {
    this.started = false;
    await Promise.all([...this.opening.values()]);
    await Promise.all([...this.logs.values()].map((log) => log.close()));
    this.logs.clear();
  }

  private async openOne(deviceId: string): Promise<ConsoleLog> {
    await makeFolder(this.options.dir, 0o700);
    return ConsoleLog.open({ ...this.options, deviceId, openFiles: this.openFiles });
  }

  private openLater(deviceId: string): void {
    const logger: Logger = this.options.logger;
    const done = this.openOne(deviceId).then(
      (log) => {
        if (this.started) this.logs.set(deviceId, log);
        else void log.close();
      },
      (err: unknown) => logger.warn({ event: 'console-log.open-failed', deviceId, err }, 'cannot open the console log of a new device'),
    );
    this.opening.set(deviceId, done);
    void done.finally(() => this.opening.delete(deviceId));
  }
}
