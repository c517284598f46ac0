import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseServerSentEvents, type ServerSentEvent } from './server-sent-events.ts';

async function parse(parts: readonly string[], maxEventBytes?: number): Promise<ServerSentEvent[]> {
  async function* chunks() {
    for (const p of parts) yield new TextEncoder().encode(p);
  }
  const out: ServerSentEvent[] = [];
  for await (const e of parseServerSentEvents(chunks(), maxEventBytes === undefined ? {} : { maxEventBytes })) out.push(e);
  return out;
}

describe('server-sent events reader', () => {
  it('reads ids, data, named events, and skips comments', async () => {
    const text = 'id: 0\ndata: AAA\n\n: keepalive\n\nid: 1\ndata: BBB\n\nevent: error\ndata: {"code":"ERR_X"}\n\n';
    expect(await parse([text])).toEqual([
      { event: 'message', data: 'AAA', id: '0' },
      { event: 'message', data: 'BBB', id: '1' },
      { event: 'error', data: '{"code":"ERR_X"}', id: '1' },
    ]);
  });

  it('reads the same events however the bytes are cut, with LF, CRLF or CR line ends', async () => {
    const events = ['AAA', 'B-_9', 'ccc'];
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = events.map((d) => `data: ${d}${eol}${eol}`).join('');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat({ max: text.length }), { maxLength: 6 }), async (cuts) => {
          const bounds = [0, ...[...new Set(cuts)].sort((a, b) => a - b), text.length];
          const parts = bounds.slice(1).map((end, i) => text.slice(bounds[i], end));
          expect(parts.join('')).toBe(text);
          expect((await parse(parts)).map((e) => e.data)).toEqual(events);
        }),
        { numRuns: 60 },
      );
    }
  });

  it('drops a last event that never got its blank line', async () => {
    expect(await parse(['data: AAA\n\ndata: BB'])).toEqual([{ event: 'message', data: 'AAA' }]);
  });

  it('refuses an event larger than the limit instead of buffering it', async () => {
    await expect(parse([`data: ${'A'.repeat(100)}\n\n`], 50)).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
    await expect(parse(['data: ', 'A'.repeat(100)], 50)).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });
});
