/**
 * The frame types the channel itself uses, beside the application's request types.
 *
 *   client → server  {id, type: APP_TYPE, body, stream?: true}   a request
 *                    {id, type: "cancel"}                         the caller gave up (timeout, abort)
 *   server → client  {id, type: "result", body}                   the answer to a request
 *                    {id, type: "chunk", body}                    one piece of a streamed answer
 *                    {id, type: "end"}                            a streamed answer is complete
 *                    {id, type: "error", error: {code, message, category, status}}
 *                    {id: 0, type: "error", error}                about the connection; it closes next
 *
 * Request ids are unique per client across its pool, start at 1 and are never reused while
 * in flight; id 0 is reserved for connection-level frames.
 */
import type { ErrorCategory } from '../cloister-error.ts';
import { CloisterError, InternalError } from '../cloister-error.ts';
import { isPlainRecord } from '../cbor.ts';
import { ChannelRemoteError, FrameMalformedError } from '../errors.ts';
import type { Frame } from '../frames.ts';

export const RESERVED_FRAME_TYPES: ReadonlySet<string> = new Set(['result', 'chunk', 'end', 'error', 'cancel']);

export interface WireErrorBody {
  readonly code: string;
  readonly message: string;
  readonly category: ErrorCategory;
  readonly status: number;
}

const CATEGORIES: ReadonlySet<string> = new Set(['configuration', 'transient', 'security', 'validation', 'internal']);

/** Our own errors keep code, category and status; anything else says only ERR_INTERNAL. */
export function errorToWire(error: unknown): WireErrorBody {
  const e = error instanceof CloisterError ? error : new InternalError();
  return { code: e.code, message: e.message, category: e.category, status: e.status };
}

export function errorFromFrame(frame: Frame): ChannelRemoteError {
  const e = frame.error;
  if (
    !isPlainRecord(e) ||
    typeof e.code !== 'string' ||
    !/^ERR_[A-Z0-9_]{1,64}$/.test(e.code) ||
    typeof e.message !== 'string' ||
    e.message.length > 1024 ||
    typeof e.category !== 'string' ||
    !CATEGORIES.has(e.category) ||
    typeof e.status !== 'number' ||
    !Number.isInteger(e.status) ||
    e.status < 400 ||
    e.status > 599
  ) {
    throw new FrameMalformedError({ reason: 'error frame without a valid {code, message, category, status}' });
  }
  return new ChannelRemoteError({ code: e.code, message: e.message, category: e.category as ErrorCategory, status: e.status });
}
