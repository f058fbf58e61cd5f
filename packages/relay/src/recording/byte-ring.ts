/**
 * The last `capacity` bytes written: memory stays bounded however much a device prints. The
 * buffer grows (doubling) up to `capacity` as bytes arrive, so a relay with thousands of quiet
 * devices does not hold `capacity` bytes for each. Bytes are kept exactly (0x00 and 0xFF included).
 */
export class ByteRing {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where the next byte goes. */
  private head = 0;
  private filled = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.filled;
  }

  write(chunk: Buffer): void {
    if (this.capacity <= 0 || chunk.length === 0) return;
    if (this.buffer.length < this.capacity && this.filled + chunk.length > this.buffer.length) this.grow(this.filled + chunk.length);
    const cap = this.buffer.length;
    // Only the tail of a chunk longer than the ring can survive.
    const data = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
    const first = Math.min(data.length, cap - this.head);
    data.copy(this.buffer, this.head, 0, first);
    data.copy(this.buffer, 0, first);
    this.head = (this.head + data.length) % cap;
    this.filled = Math.min(cap, this.filled + data.length);
  }

  /** Until it is full the ring is linear (head === filled), so growing is one copy. */
  private grow(needed: number): void {
    const size = Math.min(this.capacity, Math.max(needed, this.buffer.length * 2, 256));
    const bigger = Buffer.alloc(size);
    this.contents().copy(bigger);
    this.buffer = bigger;
    this.head = this.filled % size;
  }

  /** A copy of what the ring holds, oldest byte first. */
  contents(): Buffer {
    const start = (this.head - this.filled + this.buffer.length) % Math.max(1, this.buffer.length);
    if (start + this.filled <= this.buffer.length) return Buffer.from(this.buffer.subarray(start, start + this.filled));
    return Buffer.concat([this.buffer.subarray(start), this.buffer.subarray(0, this.head)]);
  }
}
