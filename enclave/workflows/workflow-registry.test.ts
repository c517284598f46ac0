import { describe, expect, it } from 'vitest';
import { echoWorkflow } from './echo-workflow.ts';
import { createWorkflowRegistry, jcsSha256 } from './workflow-registry.ts';

describe('createWorkflowRegistry', () => {
  it('names each workflow by its definition digest', () => {
    const registry = createWorkflowRegistry([echoWorkflow]);
    const echo = registry.get('echo');
    expect(echo?.ref).toEqual({ name: 'echo', version: '1', digest: jcsSha256(echoWorkflow.definition).toString('hex') });
    expect(registry.get('nope')).toBeUndefined();
  });

  it('gives the registry a digest that changes when a definition changes', () => {
    const a = createWorkflowRegistry([echoWorkflow]);
    const b = createWorkflowRegistry([{ ...echoWorkflow, definition: { ...echoWorkflow.definition, version: '2' } }]);
    expect(a.digest).toHaveLength(32);
    expect(Buffer.from(a.digest).equals(Buffer.from(b.digest))).toBe(false);
  });

  it('refuses two workflows with the same name', () => {
    expect(() => createWorkflowRegistry([echoWorkflow, echoWorkflow])).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_INVALID_CONFIG' }));
  });

  it('echo returns its input unchanged', async () => {
    const input = { a: [1, 'two', null], b: { c: true } };
    expect(await echoWorkflow.run(input)).toEqual(input);
  });
});
