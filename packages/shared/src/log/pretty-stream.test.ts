import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { prettyStream } from './pretty-stream.js';

/** A --pretty logger whose output the test reads. */
function prettyLogger() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ svc: 'relay', version: 'test', pretty: true, destination });
  return { logger, output: () => text };
}

// What a peer can put in a request or subsystem name: set the window title, clear the screen,
// recolour what follows, ring the bell, and fake a log line of its own.
const hostile = '\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\nINFO: fake line';

describe('the --pretty log output', () => {
  it('escapes control characters of a hostile request name instead of printing them raw', async () => {
    const { logger, output } = prettyLogger();
    logger.info({ event: 'person.request.refused', request: hostile, [hostile]: 'as a key' }, `refused ${hostile} from a person`);
    await expect.poll(output).toContain('person.request.refused');
    const text = output();
    for (const raw of ['\x1b]0;', '\x07', '\x1b[2J', '\x1b[31mred', '\r', 'red\nINFO']) expect(text).not.toContain(raw);
    expect(text).toContain('\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\x0d\\x0aINFO: fake line');
    // pino-pretty still colours its own parts.
    expect(text).toMatch(/\x1b\[32mINFO\x1b\[39m/);
  });

  it("escapes an error's message and keeps its stack on separate lines", async () => {
    const { logger, output } = prettyLogger();
    logger.warn({ event: 'connection.error', err: new Error(`peer said ${hostile}`) }, 'connection error');
    await expect.poll(output).toContain('connection error');
    const text = output();
    expect(text).not.toContain('\x1b]0;');
    expect(text).toContain('peer said \\x1b]0;owned');
    expect(text).toMatch(/\n\s+at .*pretty-stream\.test\.ts/);
  });

  it('formats a line that reaches it in two writes, and shows a line that is not JSON escaped', () => {
    let text = '';
    const stream = prettyStream(new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) }), { colorize: false });
    const line = JSON.stringify({ level: 30, time: 0, msg: 'joined \x1b[2J line' });
    stream.write(line.slice(0, 10));
    expect(text).toBe('');
    stream.write(`${line.slice(10)}\nnot json \x1b[2J\n`);
    expect(text).toMatch(/INFO.*: joined \\x1b\[2J line\nnot json \\x1b\[2J\n$/);
  });
});
