import { describe, expect, it } from 'vitest';
import { decodeInvokeResponse, encodeInvokeResponse } from '../../protocol/messages.ts';
import { traceMessages } from './trace-messages.ts';

describe('traceMessages', () => {
  it('turns node outputs into plain JSON the response validator accepts, an absent output into null', () => {
    const traces = traceMessages([
      { node: 'redact', kind: 'redact', output: { text: '<PERSON_1>', skipped: undefined } },
      { node: 'generate', kind: 'generate', output: undefined },
      { node: 'retrieve', kind: 'retrieve', output: { documents: [{ id: 'doc_1', score: Number.NaN }] } },
    ]);
    expect(traces).toEqual([
      { node: 'redact', kind: 'redact', output: { text: '<PERSON_1>' } },
      { node: 'generate', kind: 'generate', output: null },
      { node: 'retrieve', kind: 'retrieve', output: { documents: [{ id: 'doc_1', score: null }] } },
    ]);
    const response = { v: 1 as const, ok: { runId: 'run_1', output: {}, receipt: new Uint8Array([1]), audit: {}, traces } };
    expect(decodeInvokeResponse(encodeInvokeResponse(response))).toEqual(response);
  });
});
