import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WorkflowInvalidError } from './errors.ts';
import { registryDigest } from './registry-digest.ts';

const a = { name: 'claims-agent', version: '1.0.0', digest: 'a'.repeat(64) };
const b = { name: 'claims-rag', version: '1.0.0', digest: 'b'.repeat(64) };
const b2 = { name: 'claims-rag', version: '1.1.0', digest: 'c'.repeat(64) };

describe('registryDigest', () => {
  it('is SHA-256 of the documented canonical JSON', () => {
    const text = `{"v":1,"workflows":[{"digest":"${a.digest}","name":"claims-agent","version":"1.0.0"},{"digest":"${b.digest}","name":"claims-rag","version":"1.0.0"}]}`;
    expect(registryDigest([b, a])).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('does not depend on launch order', () => {
    expect(registryDigest([a, b, b2])).toBe(registryDigest([b2, a, b]));
  });

  it('changes when a workflow is added, removed or its digest changes', () => {
    const base = registryDigest([a, b]);
    expect(registryDigest([a, b, b2])).not.toBe(base);
    expect(registryDigest([a])).not.toBe(base);
    expect(registryDigest([a, { ...b, digest: 'd'.repeat(64) }])).not.toBe(base);
  });

  it('has a digest for the empty registry', () => {
    expect(registryDigest([])).toBe(createHash('sha256').update('{"v":1,"workflows":[]}').digest('hex'));
  });

  it('rejects a version listed twice and a digest that is not SHA-256 hex', () => {
    expect(() => registryDigest([b, { ...b, digest: 'e'.repeat(64) }])).toThrow(WorkflowInvalidError);
    expect(() => registryDigest([{ ...a, digest: 'xyz' }])).toThrow(WorkflowInvalidError);
  });
});
