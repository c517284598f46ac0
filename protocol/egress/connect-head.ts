/**
 * The egress proxy's handshake: an HTTP/1.1 `CONNECT host:port` request head, answered by a
 * status line (`200 Connection Established`, or a refusal with a `{error: {code, message}}` body
 * and `Connection: close`), after which the stream is a raw byte relay (RFC 9110 §9.3.6).
 *
 * Both ends parse strictly: CRLF line ends only, visible ASCII, bounded size and header count.
 * Header values are never returned or logged: only the destination leaves this module.
 */
import type { Socket } from 'node:net';
import { formatEgressAuthority, parseEgressAuthority, type EgressDestination } from './egress-destination.ts';

/** Largest request or response head either end accepts (bytes, CRLFCRLF included). */
export const MAX_CONNECT_HEAD_BYTES = 8192;
const MAX_HEADER_LINES = 64;

export type HeadReadResult =
  | { readonly kind: 'head'; readonly head: string; readonly rest: Buffer }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'closed' };

const TERMINATOR = Buffer.from('\r\n\r\n');

/**
 * Reads one HTTP head from `socket` (up to and including CRLFCRLF). Bytes after it are returned
 * as `rest` and the socket is left paused, so the caller decides where they go. Never rejects: a
 * socket that ends, fails or is destroyed first gives `closed`.
 */
export function readHttpHead(socket: Socket, maxBytes: number = MAX_CONNECT_HEAD_BYTES): Promise<HeadReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (result: HeadReadResult) => {
      socket.off('data', onData);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onClosed);
      socket.pause();
      resolve(result);
    };
    const onClosed = () => finish({ kind: 'closed' });
    const onData = (chunk: Buffer) => {
      // Search from where a terminator split across chunks could start.
      const from = Math.max(0, length - 3);
      chunks.push(chunk);
      length += chunk.length;
      const buffer = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      chunks.length = 0;
      chunks.push(buffer);
      const end = buffer.indexOf(TERMINATOR, from);
      if (end >= 0 && end + 4 <= maxBytes) {
        finish({ kind: 'head', head: buffer.subarray(0, end + 4).toString('latin1'), rest: buffer.subarray(end + 4) });
      } else if (end >= 0 || length > maxBytes) {
        finish({ kind: 'too-large' });
      }
    };
    if (socket.destroyed) {
      resolve({ kind: 'closed' });
      return;
    }
    socket.on('data', onData);
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.once('error', onClosed);
    socket.resume();
  });
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** Splits a head into its start line and header lines; `undefined` if the framing or characters are wrong. */
function headLines(head: string): { start: string; headers: readonly string[] } | undefined {
  if (!head.endsWith('\r\n\r\n')) return undefined;
  const lines = head.slice(0, -4).split('\r\n');
  // Bare CR or LF inside a line is a smuggling vector; so is anything outside visible ASCII.
  if (lines.some((line) => line.includes('\r') || line.includes('\n') || !FIELD_VALUE.test(line))) return undefined;
  const [start, ...headers] = lines;
  if (start === undefined || headers.length > MAX_HEADER_LINES) return undefined;
  for (const line of headers) {
    const colon = line.indexOf(':');
    // No obsolete line folding, no empty names, no whitespace before the colon.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return undefined;
  }
  return { start, headers };
}

export type ConnectRequestParse =
  | { readonly ok: true; readonly destination: EgressDestination }
  | { readonly ok: false; readonly reason: 'not-connect' | 'bad-authority' | 'bad-syntax' };

/** Parses `CONNECT host:port HTTP/1.x` and its headers (which are checked for syntax and ignored). */
export function parseConnectRequestHead(head: string): ConnectRequestParse {
  const lines = headLines(head);
  if (lines === undefined) return { ok: false, reason: 'bad-syntax' };
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines.start);
  if (!match) return { ok: false, reason: 'bad-syntax' };
  if (match[1] !== 'CONNECT') return { ok: false, reason: 'not-connect' };
  const destination = parseEgressAuthority(match[2]!);
  return destination === undefined ? { ok: false, reason: 'bad-authority' } : { ok: true, destination };
}

/** Parses the proxy's status line; `undefined` when the head is not a well-formed HTTP/1.x response head. */
export function parseConnectResponseHead(head: string): { readonly status: number } | undefined {
  const lines = headLines(head);
  if (lines === undefined) return undefined;
  const match = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [\t\x20-\x7e]*)?$/.exec(lines.start);
  return match ? { status: Number(match[1]) } : undefined;
}

export function formatConnectRequest(destination: EgressDestination): string {
  const authority = formatEgressAuthority(destination);
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
}

export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A refusal: status line, JSON body `{error: {code, message}}`, and `Connection: close`. */
export function formatConnectRefusal(status: number, error: { readonly code: string; readonly message: string }): string {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}
