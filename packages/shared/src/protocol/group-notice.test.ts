import { describe, expect, it } from 'vitest';
import { decodeGroupNotice, encodeGroupNotice } from './group-notice.js';

describe('group notice', () => {
  it('round-trips the members', () => {
    const notice = {
      self: 'id-a',
      members: [
        { id: 'id-a', host: 'r1.example.net', port: 443 },
        { id: 'id-b', host: '10.0.0.2', port: 2222 },
      ],
    };
    const line = encodeGroupNotice(notice).toString('utf8');
    expect(line).toMatch(/^LIFELINE-GROUP 1 \{.*\}\n$/);
    expect(decodeGroupNotice(line.trimEnd())).toEqual({ kind: 'notice', notice });
  });

  it('tells a newer version from garbage', () => {
    expect(decodeGroupNotice('LIFELINE-GROUP 2 {"whatever":true}')).toEqual({ kind: 'unknown-version', version: '2' });
    expect(decodeGroupNotice('RETURN 100')).toEqual({ kind: 'invalid' });
    expect(decodeGroupNotice('LIFELINE-GROUP 1 {not json')).toEqual({ kind: 'invalid' });
    expect(decodeGroupNotice('LIFELINE-GROUP 1 {"self":"a","members":[{"id":"a","host":"r 1","port":1}]}')).toEqual({ kind: 'invalid' });
    expect(decodeGroupNotice('LIFELINE-GROUP 1 {"self":"a","members":[{"id":"a","host":"r1","port":70000}]}')).toEqual({ kind: 'invalid' });
    const many = Array.from({ length: 65 }, (_, i) => ({ id: `m${i}`, host: `r${i}`, port: 443 }));
    expect(decodeGroupNotice(encodeGroupNotice({ self: 'm0', members: many }).toString('utf8').trimEnd())).toEqual({ kind: 'invalid' });
  });
});
