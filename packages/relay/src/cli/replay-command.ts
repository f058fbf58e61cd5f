import { parseArgs } from 'node:util';
import {
  ExitCode,
  isConfigError,
  isLifelineError,
  loadConfigFile,
  readKeyFile,
  relayPaths,
  systemClock,
  type Clock,
} from '@lifeline/shared';
import { parseAsciicast, readAsciicast, type Asciicast } from '../recording/asciicast.js';
import { RELAY_KEY_COMMENT } from '../relay-preflight.js';
import { askRelay } from './admin-query.js';
import { fetchRecording } from './recording-fetch.js';
import type { CommandIo } from './recordings-command.js';

export interface ReplayIo extends CommandIo {
  /** Paces playback; tests pass one that records the pauses. */
  clock?: Clock;
}

/** Like asciinema's idle-time-limit: a console left alone for an hour replays as a 2 s pause. */
export const DEFAULT_IDLE_LIMIT_SECONDS = 2;

const usage = `Usage: lifeline-relay replay FILE [--config relay.yaml] [--speed N] [--idle-limit S] [--dump]
Plays a session recording (asciicast v2) in this terminal at its own pace.
  --config FILE    on a member of a relay group: FILE comes from the member whose disk holds it,
                   as the group's index (\`recordings\`) names it, over SSH with the group's key
  --speed N        play N times faster (default 1)
  --idle-limit S   shorten pauses longer than S seconds to S (default ${DEFAULT_IDLE_LIMIT_SECONDS}; 0: keep them)
  --dump           print the output at once, with markers as "[marker: BREAK]" lines
`;

function positiveNumber(text: string | undefined, fallback: number, allowZero: boolean): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isFinite(n) && (n > 0 || (allowZero && n === 0)) ? n : undefined;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** The output as text, each marker on a line of its own. */
async function dump(cast: Asciicast, io: CommandIo): Promise<void> {
  let atLineStart = true;
  for (const [, code, data] of cast.events) {
    if (code === 'o' && data !== '') {
      await write(io.stdout, data);
      atLineStart = data.endsWith('\n');
    } else if (code === 'm') {
      await write(io.stdout, `${atLineStart ? '' : '\n'}[marker: ${data}]\n`);
      atLineStart = true;
    }
  }
}

/** Output events at their recorded pace, divided by `speed`, pauses capped at `idleLimit`. */
async function play(cast: Asciicast, io: ReplayIo, speed: number, idleLimit: number): Promise<void> {
  const clock = io.clock ?? systemClock;
  let previous = 0;
  for (const [time, code, data] of cast.events) {
    if (code !== 'o') continue;
    let pause = Math.max(0, time - previous);
    if (idleLimit > 0) pause = Math.min(pause, idleLimit);
    previous = time;
    if (pause > 0) await clock.sleep((pause * 1000) / speed);
    await write(io.stdout, data);
  }
}

/**
 * `lifeline-relay replay FILE`: plays a recording in the terminal, or with `--dump` prints its
 * output text with markers shown. Input (`i`) and resize (`r`) events are not replayed. Returns
 * the exit code: 0 played, 1 the file is missing or not asciicast v2, 78 bad flags.
 */
export async function runReplay(args: string[], io: ReplayIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        speed: { type: 'string', short: 's' },
        'idle-limit': { type: 'string', short: 'i' },
        dump: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr.write(`replay: ${(err as Error).message}\n\n${usage}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return ExitCode.ok;
  }
  const file = positionals[0];
  const speed = positiveNumber(values.speed, 1, false);
  const idleLimit = positiveNumber(values['idle-limit'], DEFAULT_IDLE_LIMIT_SECONDS, true);
  if (file === undefined || positionals.length > 1 || speed === undefined || idleLimit === undefined) {
    const problem =
      file === undefined
        ? 'which recording? (FILE is missing)'
        : positionals.length > 1
          ? 'one FILE at a time'
          : 'speed must be > 0, idle limit >= 0';
    io.stderr.write(`replay: ${problem}\n\n${usage}`);
    return ExitCode.usage;
  }

  // A group member's index says which member's disk holds FILE; otherwise (or without the index) this relay's disk.
  const fetched = values.config === undefined ? undefined : await fromGroup(file, values.config, io);
  if (typeof fetched === 'number') return fetched;
  let cast: Asciicast;
  if (fetched) cast = fetched;
  else {
    try {
      cast = await readAsciicast(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!isLifelineError(err) && typeof code !== 'string') throw err;
      io.stderr.write(`replay: ${(err as Error).message}\n`);
      return ExitCode.crash;
    }
  }
  if (cast.truncated) io.stderr.write(`replay: ${file}: the last line was cut short (a crash while recording); replaying up to it\n`);

  if (values.dump) {
    await dump(cast, io);
  } else {
    const { title, width, height, timestamp } = cast.header;
    const when = typeof timestamp === 'number' ? ` recorded ${new Date(timestamp * 1000).toISOString()}` : '';
    const idle = idleLimit > 0 ? `, pauses capped at ${idleLimit} s` : '';
    io.stderr.write(`replay: ${title ?? file}${when}, ${width}x${height}, speed ${speed}x${idle}\n`);
    await play(cast, io, speed, idleLimit);
  }
  return ExitCode.ok;
}

/**
 * On a member of a relay group: the recording from the member the group's index names for `file`
 * (asked of the running relay, as `recordings` does), which sends it over SSH (recording-fetch.ts),
 * wherever that member is (this one included: the index, not a path that may exist on several
 * hosts, says whose file it is). Undefined when this relay is not in a group, its index cannot be
 * asked, or does not list `file`: the caller reads this relay's disk. An exit code when the file
 * cannot be had, said on stderr.
 */
async function fromGroup(file: string, configFile: string, io: CommandIo): Promise<Asciicast | number | undefined> {
  try {
    const config = await loadConfigFile(configFile, 'relay');
    if (!config.group) return undefined;
    const asked = await askRelay('replay', { config: configFile }, { command: 'recordings' }, io);
    if (!asked.ok) {
      io.stderr.write("replay: the group's index needs the running relay; reading this relay's disk\n");
      return undefined;
    }
    const entry = Array.isArray(asked.answer)
      ? (asked.answer as Array<{ path?: unknown; relay?: unknown }>).find((e) => e.path === file && typeof e.relay === 'string')
      : undefined;
    if (!entry) return undefined;
    const relay = entry.relay as string;
    const hostKey = await readKeyFile(relayPaths(config, configFile).hostKeyFile, RELAY_KEY_COMMENT);
    if (!hostKey) {
      io.stderr.write(`replay: ${configFile}: hostKeyFile does not exist; the group's host key is the login to the other members\n`);
      return ExitCode.crash;
    }
    io.stderr.write(`replay: ${file} is on ${relay}; fetching it from there\n`);
    const bytes = await fetchRecording({ relay, path: file, hostKey });
    return parseAsciicast(`${relay}:${file}`, bytes.toString('utf8'));
  } catch (err) {
    if (isConfigError(err)) {
      io.stderr.write(`replay: ${(err as Error).message}\n`);
      return ExitCode.badConfig;
    }
    if (!isLifelineError(err)) throw err;
    io.stderr.write(`replay: ${err.message}\n`);
    return ExitCode.crash;
  }
}
