/**
 * The last `capacity` bytes written, in a fixed buffer allocated once: memory stays bounded
 * however much a device prints. Bytes are kept exactly (0x00 and 0xFF included).
 */
export class ByteRing {
  private readonly buffer: Buffer;
  /** Where the next byte goes. */
  private head = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    this.buffer = Buffer.alloc(Math.max(0, capacity));
  }

  get length(): number {
    return this.filled;
  }

  write(chunk: Buffer): void {
    const cap = this.buffer.length;
    if (cap === 0 || chunk.length === 0) return;
    // Only the tail of a chunk longer than the ring can survive.
    const data = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
    const first = Math.min(data.length, cap - this.head);
    data.copy(this.buffer, this.head, 0, first);
    data.copy(this.buffer, 0, first);
    this.head = (this.head + data.length) % cap;
    this.filled = Math.min(cap, this.filled + data.length);
  }

  /** A copy of what the ring holds, oldest byte first. */
  contents(): Buffer {
    const start = (this.head - this.filled + this.buffer.length) % Math.max(1, this.buffer.length);
    if (start + this.filled <= this.buffer.length) return Buffer.from(this.buffer.subarray(start, start + this.filled));
    return Buffer.concat([this.buffer.subarray(start), this.buffer.subarray(0, this.head)]);
  }
}
