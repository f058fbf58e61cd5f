/**
 * Every state the agent can show at a site, in one table: how the LED shows it and what it means
 * to the person standing next to the Pi. The LED pattern player plays `pattern`, the status hook
 * gets the key as LIFELINE_STATE, and docs/status-led.md's field card is checked against `card`
 * (status-states.test.ts), so a state cannot be added without its pattern and its line on the card.
 */

/** How the LED shows a state: steady on, or a repeating cycle of phases in ms (on, off, on, off, ...). */
export type LedPattern = { readonly kind: 'steady' } | { readonly kind: 'cycle'; readonly phasesMs: readonly number[] };

export interface StatusState {
  readonly pattern: LedPattern;
  /** The LED column of the field card, line by line: the pattern as a person sees it, the first line in capitals. */
  readonly card: readonly string[];
  /** What it means, in words for a person on site (the card's middle column). */
  readonly meaning: string;
  /** What that person should do (the card's last column). */
  readonly todo: string;
}

const steady: LedPattern = { kind: 'steady' };
const blink = (onMs: number, offMs: number): LedPattern => ({ kind: 'cycle', phasesMs: [onMs, offMs] });

/** Length of one flash of a refusal code, and the gap between flashes. */
const FLASH_MS = 200;
const FLASH_GAP_MS = 300;
/** The dark pause after a group of flashes, long enough to count the group again. */
const FLASH_PAUSE_MS = 2_000;

/** `count` short flashes, then a pause: the relay refused this Pi; the count says why. */
function flashes(count: number): LedPattern {
  const phasesMs: number[] = [];
  for (let i = 0; i < count; i++) phasesMs.push(FLASH_MS, i === count - 1 ? FLASH_PAUSE_MS : FLASH_GAP_MS);
  return { kind: 'cycle', phasesMs };
}

/** A refusal by the relay: `count` flashes, and the person on site says the count on the phone. */
function refused(count: number, why: string, todo = 'A new enrolment file is needed.'): StatusState {
  return {
    pattern: flashes(count),
    card: [`${count} SHORT FLASHES,`, 'then a pause'],
    meaning: `The relay refused this Pi: ${why}`,
    todo: `Call and say "${count} flashes".${todo ? ` ${todo}` : ''}`,
  };
}

/**
 * The states. A relay refusing the enrolment shows a count of flashes (as the Pi's own ACT LED
 * counts boot errors): one look tells "the relay refused this Pi" from "cannot reach the relay"
 * (slow blink), and counting tells the person on the phone which refusal it is.
 */
export const STATUS_STATES = {
  searching: {
    pattern: blink(1_000, 1_000),
    card: ['SLOW BLINK', '1 s on, 1 s off'],
    meaning: 'Cannot reach the relay (yet); trying again by itself.',
    todo: 'Check the network cable / 4G modem lights. Normal for up to a minute after power-on. Longer than 5 minutes: call.',
  },
  healthy: {
    pattern: steady,
    card: ['ON (steady)'],
    meaning: 'Link up and checked. Engineers can connect. Short flickers: someone is using the console right now.',
    todo: 'Nothing. While it flickers, do not unplug the console cable or the device.',
  },
  fault: {
    pattern: blink(100, 100),
    card: ['FAST BLINK', '5 times a second'],
    meaning: 'A fault a person must fix. It will not clear by itself.',
    todo: 'Check the console cable (USB on the Pi, console port on the device) is plugged in. Then call and say "fast blink".',
  },
  'waiting-approval': {
    pattern: blink(1_750, 250),
    card: ['ON, DARK A MOMENT', 'every 2 s'],
    meaning: 'This Pi is enrolled and waits for an engineer to approve it.',
    todo: 'Nothing on site. Call and say "waiting for approval" if it lasts.',
  },
  'refused-unknown-token': refused(2, 'it does not know its enrolment file.'),
  'refused-expired-token': refused(3, 'its enrolment file has expired.'),
  'refused-used-token': refused(4, 'its enrolment file was used before.'),
  'refused-other-device': refused(5, 'its enrolment file is for another device.', 'Check the file is the one for this device.'),
  'refused-revoked': refused(6, 'an engineer revoked it.', ''),
} as const satisfies Record<string, StatusState>;

/** A state the agent shows: the LED pattern, the hook's LIFELINE_STATE, `to` in `status.change`. */
export type IndicatorState = keyof typeof STATUS_STATES;

/** Every state, in the table's order. */
export const INDICATOR_STATES = Object.keys(STATUS_STATES) as IndicatorState[];

/**
 * States a person must act on: a change of reason alone is worth a new log line and hook run (a
 * different fault needs a different fix), and the agent will not leave them by retrying.
 */
export const needsPerson = (state: IndicatorState): boolean => state === 'fault' || state.startsWith('refused-');
