/**
 * The dev model's record of what it was sent: every request, one JSON line each, appended to
 * `DATA_DIR/dev-model/requests.jsonl` in arrival order. It keeps everything on purpose (tests
 * read it to prove which values a model provider saw); a real provider's copy is not ours to read.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** The parsed JSON body; `null` for requests without one. */
  readonly body: unknown;
  /** The raw body, only when it was not JSON. */
  readonly bodyText?: string;
}

export interface RequestLog {
  readonly path: string;
  /** Resolves once the line is on disk, so a response is never sent before its request is logged. */
  append(entry: RequestLogEntry): Promise<void>;
}

export async function createRequestLog(dataDir: string): Promise<RequestLog> {
  const dir = join(dataDir, 'dev-model');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'requests.jsonl');
  let tail: Promise<void> = Promise.resolve();
  return {
    path,
    append(entry) {
      const line = `${JSON.stringify(entry)}\n`;
      const written = tail.then(() => appendFile(path, line, { mode: 0o600 }));
      tail = written.catch(() => undefined);
      return written;
    },
  };
}
