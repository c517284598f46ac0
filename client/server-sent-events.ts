/**
 * A small Server-Sent Events reader (WHATWG HTML §9.2.6): lines end in LF, CRLF or CR; `:` starts
 * a comment; a blank line dispatches the event; `data` lines join with LF. Only what the host
 * sends is kept (`event`, `data`, `id`); an event larger than `maxEventBytes` is refused, so a
 * hostile host cannot make the client buffer without bound.
 */
import { EventStreamInvalidError } from './errors.ts';

export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

export async function* parseServerSentEvents(chunks: AsyncIterable<Uint8Array>, options: { readonly maxEventBytes?: number } = {}): AsyncGenerator<ServerSentEvent> {
  const max = options.maxEventBytes ?? 4 * 1024 * 1024;
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let data: string[] = [];
  let size = 0;
  let event = '';
  let id: string | undefined;
  let skipLf = false;

  function* line(text: string): Generator<ServerSentEvent> {
    if (text === '') {
      if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) };
      data = [];
      size = 0;
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      size += value.length;
      if (size > max) throw new EventStreamInvalidError({ reason: `an event exceeds ${max} bytes` });
      data.push(value);
    } else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }

  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i];
      if (c === '\n' && skipLf && i === start) {
        skipLf = false;
        start = i + 1;
        continue;
      }
      skipLf = false;
      if (c === '\n' || c === '\r') {
        yield* line(buffer.slice(start, i));
        if (c === '\r') skipLf = true;
        start = i + 1;
      }
    }
    buffer = buffer.slice(start);
    if (buffer.length > max) throw new EventStreamInvalidError({ reason: `a line exceeds ${max} bytes` });
  }
  // A last event without its blank line is incomplete and is dropped, as the standard says.
}
