import { createServer, connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatConnectRefusal,
  formatConnectRequest,
  parseConnectRequestHead,
  parseConnectResponseHead,
  readHttpHead,
} from './connect-head.ts';

describe('CONNECT request heads', () => {
  it('parses what the enclave sends', () => {
    expect(parseConnectRequestHead(formatConnectRequest({ host: 'kms.eu-west-1.amazonaws.com', port: 443 }))).toEqual({
      ok: true,
      destination: { host: 'kms.eu-west-1.amazonaws.com', port: 443 },
    });
  });

  it('accepts what curl and socat send (HTTP/1.0 and 1.1, extra headers)', () => {
    expect(parseConnectRequestHead('CONNECT [::1]:8443 HTTP/1.0\r\n\r\n').ok).toBe(true);
    expect(parseConnectRequestHead('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nUser-Agent: curl/8\r\nProxy-Connection: Keep-Alive\r\n\r\n').ok).toBe(true);
  });

  it.each([
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'not-connect'],
    ['CONNECT a.example HTTP/1.1\r\n\r\n', 'bad-authority'],
    ['CONNECT 127.1:80 HTTP/1.1\r\n\r\n', 'bad-authority'],
    ['connect a.example:443 HTTP/1.1\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/2\r\n\r\n', 'bad-syntax'],
    ['CONNECT  a.example:443 HTTP/1.1\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\nHost: a\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\r\nHost: a\rb\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\r\nHost : a\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\r\nX: \u0000\r\n\r\n', 'bad-syntax'],
    ['CONNECT a.example:443 HTTP/1.1\r\nX: caf\u00e9\r\n\r\n', 'bad-syntax'],
    [`CONNECT a.example:443 HTTP/1.1\r\n${'X: y\r\n'.repeat(65)}\r\n`, 'bad-syntax'],
  ])('refuses %j (%s)', (head, reason) => {
    expect(parseConnectRequestHead(head)).toEqual({ ok: false, reason });
  });

  it('never throws and never accepts anything but CONNECT, for any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parseConnectRequestHead(`${text}\r\n\r\n`);
        if (parsed.ok) expect(text.startsWith('CONNECT ')).toBe(true);
      }),
    );
  });
});

describe('CONNECT answers', () => {
  it('reads the status of an answer and of a refusal', () => {
    expect(parseConnectResponseHead('HTTP/1.1 200 Connection Established\r\n\r\n')).toEqual({ status: 200 });
    const refusal = formatConnectRefusal(403, { code: 'ERR_EGRESS_DESTINATION_REFUSED', message: 'no' });
    expect(parseConnectResponseHead(refusal.slice(0, refusal.indexOf('\r\n\r\n') + 4))).toEqual({ status: 403 });
    expect(JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'ERR_EGRESS_DESTINATION_REFUSED', message: 'no' } });
  });

  it.each(['HTTP/1.1 200\r\n\r\n', 'HTTP/1.0 200 OK\r\n\r\n'])('accepts the status line %j', (head) => {
    expect(parseConnectResponseHead(head)).toEqual({ status: 200 });
  });

  it.each(['HTTP/1.1 20 OK\r\n\r\n', 'HTTP/2 200\r\n\r\n', 'SSH-2.0-x\r\n\r\n', 'HTTP/1.1 200 OK\n\r\n', 'HTTP/1.1 200 OK\r\nbad header\r\n\r\n'])(
    'refuses the answer %j',
    (head) => {
      expect(parseConnectResponseHead(head)).toBeUndefined();
    },
  );
});

describe('reading a head from a socket', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  async function pair(): Promise<{ reader: Socket; writer: Socket }> {
    return new Promise((resolve) => {
      const server = createServer({ pauseOnConnect: true }, (reader) => resolve({ reader, writer }));
      let writer: Socket;
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        writer = connect({ host: '127.0.0.1', port: typeof address === 'object' && address ? address.port : 0 });
        cleanup.push(() => {
          writer.destroy();
          server.close();
        });
      });
    });
  }

  it('finds a terminator split across writes and keeps the bytes after it', async () => {
    const { reader, writer } = await pair();
    cleanup.push(() => reader.destroy());
    const reading = readHttpHead(reader, 8192);
    writer.write('CONNECT a.example:443 HTTP/1.1\r\n\r');
    await new Promise((r) => setImmediate(r));
    writer.write('\nTLS-BYTES');
    const result = await reading;
    expect(result.kind).toBe('head');
    if (result.kind === 'head') {
      expect(result.head).toBe('CONNECT a.example:443 HTTP/1.1\r\n\r\n');
      expect(result.rest.toString()).toBe('TLS-BYTES');
    }
  });

  it('gives up on a head larger than the limit', async () => {
    const { reader, writer } = await pair();
    cleanup.push(() => reader.destroy());
    const reading = readHttpHead(reader, 64);
    writer.write(`CONNECT a.example:443 HTTP/1.1\r\nX: ${'y'.repeat(100)}`);
    expect(await reading).toEqual({ kind: 'too-large' });
  });

  it('reports a stream that ends before its head', async () => {
    const { reader, writer } = await pair();
    cleanup.push(() => reader.destroy());
    const reading = readHttpHead(reader, 64);
    writer.end('CONNECT a');
    expect(await reading).toEqual({ kind: 'closed' });
  });
});
