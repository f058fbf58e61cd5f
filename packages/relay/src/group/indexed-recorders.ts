import { stat } from 'node:fs/promises';
import type { Clock } from '@lifeline/shared/core';
import type { RecorderFactory, SessionRecorder } from '../recording/session-recorder.js';
import type { IndexedRecording } from './recording-index.js';

/** The group's recordings index while the relay is a member (undefined before it joined, or alone). */
export type RecordingIndexNow = () => { record(recording: IndexedRecording): void } | undefined;

/**
 * `factory`'s recorders, each added to the group's recordings index once its file is made and
 * completed (end, size) when it closes. Recording itself is `factory`'s: this only tells the index.
 */
export function indexedRecorders(factory: RecorderFactory, index: RecordingIndexNow, clock: Clock): RecorderFactory {
  return {
    open(start) {
      let row: IndexedRecording | undefined;
      // Set once open returns; a status that came before it (none does today) finds no path and lists nothing.
      let opened: SessionRecorder | undefined;
      const recorder: SessionRecorder = (opened = factory.open({
        ...start,
        onStatus: (status) => {
          // The first status says whether the file was made: only a file that exists is listed.
          const path = opened?.path;
          if (row === undefined && status.recording && path !== undefined) {
            row = { path, deviceId: start.deviceId, user: start.user, sessionId: start.sessionId, startedAt: start.startedAt };
            index()?.record(row);
          }
          start.onStatus?.(status);
        },
      }));
      return {
        output: (data) => recorder.output(data),
        input: (data) => recorder.input(data),
        resize: (size) => recorder.resize(size),
        marker: (label) => recorder.marker(label),
        get path() {
          return recorder.path;
        },
        close: async () => {
          await recorder.close();
          if (row === undefined) return;
          const sizeBytes = await stat(row.path).then(
            (s) => s.size,
            () => undefined,
          );
          index()?.record({ ...row, endedAt: new Date(clock.now()), ...(sizeBytes !== undefined ? { sizeBytes } : {}) });
        },
      };
    },
  };
}
