/** What `lifeline-relay sessions` shows of one live device console (admin interface). */
export interface SessionSnapshot {
  deviceId: string;
  /** User holding read-write, if anyone. */
  writer: string | undefined;
  /** Users attached read-only. */
  viewers: string[];
  /** When the first person still attached joined (ISO 8601). */
  since: string;
  /** Bytes from the device to people and from the writer to the device, since `since`. */
  bytesOut: number;
  bytesIn: number;
}
