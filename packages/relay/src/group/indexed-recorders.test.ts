import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@lifeline/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecorderFactory, RecordingStart, RecordingStatus, SessionRecorder } from '../recording/session-recorder.js';
import { indexedRecorders } from './indexed-recorders.js';
import type { IndexedRecording } from './recording-index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'indexed-recorders-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A factory whose recorders write their output to a real file, and report a status when the test says. */
function fileFactory() {
  const opened: Array<{ start: RecordingStart; recorder: SessionRecorder; report(status: RecordingStatus): void }> = [];
  const factory: RecorderFactory = {
    open(start) {
      const path = join(dir, `${start.user}.cast`);
      const chunks: Buffer[] = [];
      const recorder: SessionRecorder = {
        output: (data) => chunks.push(data),
        input: () => {},
        resize: () => {},
        marker: () => {},
        close: () => writeFile(path, Buffer.concat(chunks)),
        path,
      };
      opened.push({ start, recorder, report: (status) => start.onStatus?.(status) });
      return recorder;
    },
  };
  return { factory, opened };
}

const start = (user: string, statuses: RecordingStatus[]): RecordingStart => ({
  deviceId: 'rtr-1',
  user,
  sessionId: `${user}-session`,
  size: { cols: 80, rows: 24 },
  term: 'xterm',
  startedAt: new Date('2026-12-05T06:00:00Z'),
  onStatus: (s) => statuses.push(s),
});

describe('indexedRecorders', () => {
  it("lists a recording once its file is made and completes it when it closes, passing everything to the factory's recorder", async () => {
    const clock = new FakeClock(Date.parse('2026-12-05T06:05:00Z'));
    const rows: IndexedRecording[] = [];
    const { factory, opened } = fileFactory();
    const statuses: RecordingStatus[] = [];
    const recorder = indexedRecorders(factory, () => ({ record: (r) => rows.push(r) }), clock).open(start('alice', statuses));
    expect(rows).toEqual([]);
    opened[0]!.report({ recording: true, lost: 0 });
    // The person is still told, and the index got the open recording.
    expect(statuses).toEqual([{ recording: true, lost: 0 }]);
    expect(rows).toEqual([
      {
        path: join(dir, 'alice.cast'),
        deviceId: 'rtr-1',
        user: 'alice',
        sessionId: 'alice-session',
        startedAt: new Date('2026-12-05T06:00:00Z'),
      },
    ]);
    recorder.output(Buffer.from('Router>'));
    expect(recorder.path).toBe(join(dir, 'alice.cast'));
    await recorder.close();
    expect(rows[1]).toMatchObject({ path: join(dir, 'alice.cast'), endedAt: new Date('2026-12-05T06:05:00Z'), sizeBytes: 7 });
  });

  it('lists nothing for a recording whose file could not be made, and nothing while the relay is in no group yet', async () => {
    const rows: IndexedRecording[] = [];
    const { factory, opened } = fileFactory();
    const failing = indexedRecorders(factory, () => ({ record: (r) => rows.push(r) }), new FakeClock()).open(start('bob', []));
    opened[0]!.report({ recording: false, reason: 'the disk is full' });
    await failing.close();
    const noGroup = indexedRecorders(factory, () => undefined, new FakeClock()).open(start('carol', []));
    opened[1]!.report({ recording: true, lost: 0 });
    await noGroup.close();
    expect(rows).toEqual([]);
  });
});
