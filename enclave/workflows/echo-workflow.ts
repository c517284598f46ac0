/**
 * `echo`: returns its input unchanged. A diagnostic workflow that stays as the health probe
 * of the whole confidential path (client → host → enclave → receipt) once real workflows land.
 */
import type { BuiltinWorkflow } from './workflow-registry.ts';

export const echoWorkflow: BuiltinWorkflow = {
  definition: {
    name: 'echo',
    version: '1',
    description: 'Diagnostic: returns its input unchanged. Health probe of the confidential channel.',
    input: {},
    output: {},
    nodes: [],
    edges: [],
  },
  run: async (input) => input,
};
