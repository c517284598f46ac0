import fc from 'fast-check';
import { encode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { MessageInvalidError, MessageMalformedError, MessageVersionUnsupportedError, ProtocolError } from './errors.ts';
import {
  decodeReadRunRequest,
  decodeReadRunResponse,
  decodeRunEventChunk,
  encodeReadRunRequest,
  encodeReadRunResponse,
  encodeRunEventChunk,
  type ReadRunRequest,
  type ReadRunResponse,
} from './run-messages.ts';
import { parseRunStatusNotice } from './run-status-notice.ts';

const runId = `run_${'ab'.repeat(16)}`;
const read: ReadRunRequest = { v: 1, requestId: `req_${'01'.repeat(16)}`, at: 1_700_000_000_000, token: 'eyJhbGciOi.x.y', runId };
const view: ReadRunResponse = {
  v: 1,
  ok: {
    run: {
      id: runId,
      workflow: { name: 'claims-rag', version: '1.0.0', digest: 'cd'.repeat(32) },
      status: 'succeeded',
      test: false,
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_000_900,
      events: [
        { seq: 1, type: 'run_started', at: 1_700_000_000_000 },
        { seq: 2, type: 'gate_allowed', at: 1_700_000_000_001, action: 'invoke' },
        { seq: 3, type: 'run_succeeded', at: 1_700_000_000_900 },
      ],
      output: { answer: 'text', sources: ['doc_1'], score: 0.5 },
    },
  },
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof MessageInvalidError) return error.issues!.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected MessageInvalidError');
}

describe('run read request', () => {
  it('round-trips through CBOR', () => {
    expect(decodeReadRunRequest(encodeReadRunRequest(read))).toEqual(read);
  });

  it('rejects a request without a token: a read always names its reader', () => {
    const { token: _token, ...anonymous } = read;
    expect(issuesOf(() => decodeReadRunRequest(encode(anonymous)))).toContain('token: is required');
  });

  it('rejects a run id that is not run_ and 32 lowercase hex digits', () => {
    expect(issuesOf(() => decodeReadRunRequest(encode({ ...read, runId: 'run_../../x' })))[0]).toMatch(/^runId: must match/);
    expect(issuesOf(() => encodeReadRunRequest({ ...read, runId: `run_${'AB'.repeat(16)}` }))[0]).toMatch(/^runId/);
  });

  it('rejects unknown fields, a bad request id and a negative time', () => {
    expect(issuesOf(() => decodeReadRunRequest(encode({ ...read, workflow: 'echo' })))).toContain('workflow: is not an allowed field');
    expect(issuesOf(() => decodeReadRunRequest(encode({ ...read, requestId: 'req_1' })))[0]).toMatch(/^requestId/);
    expect(issuesOf(() => decodeReadRunRequest(encode({ ...read, at: -1 })))).toContain('at: must be a non-negative integer');
  });

  it('rejects trailing bytes as malformed, and another version as unsupported', () => {
    const bytes = encodeReadRunRequest(read);
    expect(() => decodeReadRunRequest(new Uint8Array([...bytes, 0]))).toThrow(MessageMalformedError);
    expect(() => decodeReadRunRequest(encode({ ...read, v: 2 }))).toThrow(MessageVersionUnsupportedError);
  });

  it('answers any bytes with a request or a typed protocol error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeReadRunRequest(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers any CBOR map with a request or a typed protocol error', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('v', 'requestId', 'at', 'token', 'runId', 'extra'), value), (map) => {
        try {
          expect(decodeReadRunRequest(encode(map))).toMatchObject({ v: 1 });
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('run read response', () => {
  it('round-trips a run view and an error', () => {
    expect(decodeReadRunResponse(encodeReadRunResponse(view))).toEqual(view);
    const error: ReadRunResponse = { v: 1, error: { code: 'ERR_RUN_NOT_FOUND', message: 'no run' } };
    expect(decodeReadRunResponse(encodeReadRunResponse(error))).toEqual(error);
  });

  it('rejects a status outside the run lifecycle and an event with content fields', () => {
    const run = (view as unknown as { ok: { run: Record<string, unknown> } }).ok.run;
    expect(issuesOf(() => encodeReadRunResponse({ v: 1, ok: { run: { ...run, status: 'done' } } } as never))[0]).toMatch(/^ok\.run\.status/);
    const leaky = { ...run, events: [{ seq: 1, type: 'run_started', at: 1, text: 'a prompt' }] };
    expect(issuesOf(() => encodeReadRunResponse({ v: 1, ok: { run: leaky } } as never))).toContain('ok.run.events[0].text: is not an allowed field');
  });

  it('rejects an answer that carries both a run and an error', () => {
    expect(issuesOf(() => decodeReadRunResponse(encode({ ...view, error: { code: 'ERR_X', message: '' } })))).toContain('error: is not an allowed field');
  });
});

describe('run event chunk', () => {
  it('round-trips an event and an error', () => {
    const chunk = { v: 1, event: { seq: 4, type: 'node_completed', at: 5, node: 'retrieve' } } as const;
    expect(decodeRunEventChunk(encodeRunEventChunk(chunk))).toEqual(chunk);
    expect(decodeRunEventChunk(encodeRunEventChunk({ v: 1, error: { code: 'ERR_RUN_NOT_FOUND', message: 'x' } }))).toMatchObject({ error: { code: 'ERR_RUN_NOT_FOUND' } });
  });

  it('rejects an event type that is not snake_case and an over-long node id', () => {
    expect(issuesOf(() => decodeRunEventChunk(encode({ v: 1, event: { seq: 1, type: 'Run Started', at: 1 } })))[0]).toMatch(/^event\.type/);
    expect(issuesOf(() => decodeRunEventChunk(encode({ v: 1, event: { seq: 1, type: 'node_started', at: 1, node: 'n'.repeat(129) } })))[0]).toMatch(/^event\.node/);
  });
});

describe('run status notice', () => {
  it('keeps exactly the id, the workflow name, the status and the time', () => {
    expect(parseRunStatusNotice({ runId, workflow: 'claims-rag', status: 'running', at: 5 })).toEqual({ runId, workflow: 'claims-rag', status: 'running', at: 5 });
  });

  it('refuses a notice carrying anything more, or a status outside the lifecycle', () => {
    expect(() => parseRunStatusNotice({ runId, workflow: 'claims-rag', status: 'running', at: 5, owner: 'alice' })).toThrow(MessageInvalidError);
    expect(() => parseRunStatusNotice({ runId, workflow: 'claims-rag', status: 'done', at: 5 })).toThrow(MessageInvalidError);
    expect(() => parseRunStatusNotice({ runId: 'run_x', workflow: 'claims-rag', status: 'running', at: 5 })).toThrow(MessageInvalidError);
  });
});
