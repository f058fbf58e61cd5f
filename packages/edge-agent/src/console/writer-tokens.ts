import type { Logger } from '@lifeline/shared/core';
import { StateFile } from '../state-file.js';
import type { Fence } from './writer-fence.js';

/** The file's form: `{ "devices": { "rtr-1": { "token": "42", "relay": "relay-b.example.net:443" } } }`. */
interface StoredFences {
  devices: Record<string, { token: string; relay: string }>;
}

/**
 * Each console's writer fence (writer-fence.ts) as the agent last raised it, in a file of its
 * state folder (state-file.ts: mode 0600, agent.yaml `writerTokensFile`), so a restart does not
 * forget which relay holds the group's writer lease. Written only when a token grows (a claim or
 * takeover in the group). A missing file is an empty memory; an unreadable one is logged and
 * treated as empty (the fence then starts open, as before this file existed), never an error that
 * stops the agent.
 */
export class WriterTokens {
  private readonly fences = new Map<string, Fence>();
  private readonly file: StateFile;

  constructor(
    path: string,
    private readonly logger: Logger,
  ) {
    this.file = new StateFile(path, logger, { event: 'console.writer-tokens-write-failed', message: 'cannot remember the writer tokens' });
  }

  /** Reads the file; the fences it held, by device id. */
  async load(): Promise<ReadonlyMap<string, Fence>> {
    const text = await this.file.read();
    if (text === undefined) return this.fences;
    const devices = parse(text);
    if (!devices) {
      this.logger.warn(
        { event: 'console.writer-tokens-unreadable', file: this.file.path },
        'ignoring the remembered writer tokens: not a writer token file',
      );
      return this.fences;
    }
    for (const [deviceId, fence] of devices) this.fences.set(deviceId, fence);
    return this.fences;
  }

  /** Remembers `deviceId`'s larger fence; resolves once it is on disk (failures are logged, not thrown). */
  remember(deviceId: string, fence: Fence): Promise<void> {
    this.fences.set(deviceId, { ...fence });
    const stored: StoredFences = { devices: {} };
    for (const [id, { token, source }] of this.fences) stored.devices[id] = { token: token.toString(), relay: source };
    return this.file.write(`${JSON.stringify(stored)}\n`);
  }
}

/** The fences in `text`, or undefined when it is not a writer token file. */
function parse(text: string): Map<string, Fence> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const devices = (value as Partial<StoredFences> | null)?.devices;
  if (typeof devices !== 'object' || devices === null) return undefined;
  const fences = new Map<string, Fence>();
  for (const [deviceId, entry] of Object.entries(devices)) {
    const { token, relay } = (entry ?? {}) as Partial<StoredFences['devices'][string]>;
    if (typeof token !== 'string' || !/^\d{1,20}$/.test(token) || typeof relay !== 'string' || relay === '') return undefined;
    fences.set(deviceId, { token: BigInt(token), source: relay });
  }
  return fences;
}
