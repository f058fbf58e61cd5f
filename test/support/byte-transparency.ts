import { expect } from 'vitest';
import type { SerialFarEnd } from '@lifeline/edge-agent/testing';
import type { ConsoleClient } from './ssh2-console.js';
import { waitFor } from './wait.js';

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Every byte value from the person to the device and back, unchanged (0x00, 0xFF, ^] included). */
export async function expectAllByteValuesBothWays(person: ConsoleClient, device: SerialFarEnd): Promise<void> {
  person.write(allBytes);
  expect((await device.readExactly(256)).equals(allBytes)).toBe(true);
  const before = person.bytes().length;
  await device.write(allBytes);
  await waitFor('256 bytes at the person', () => person.bytes().length >= before + 256);
  expect(
    person
      .bytes()
      .subarray(before, before + 256)
      .equals(allBytes),
  ).toBe(true);
}
