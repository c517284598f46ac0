/**
 * `npm run bench -- policy`: the cost of the policy gates a run pays. One Cedar decision with
 * the schema and policies parsed once at load (what `createAuthorizer` does) against the same
 * decision parsing them on every call (`isAuthorized`, the naive use), identity-token
 * verification, loading a bundle, and a workflow digest. Same process, same run.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAuthorized, type EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { createAuthorizer, type AuthorizationRequest } from '../../policies/authorize.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { createTokenVerifier } from '../../policies/verify-token.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { devBundleWithKeys, fileText } from '../../testing/policy-fixtures.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';
import { mintDevToken } from '../policy/token.ts';

export const benchmark: Benchmark = {
  name: 'policy',
  description: 'Cedar gate decisions (parsed once vs per call), token verification, bundle load, workflow digest',
  async run(args) {
    const quick = args.includes('--quick');
    const n = quick ? 200 : 2000;
    const { files, keys } = devBundleWithKeys();
    const bundle = loadPolicyBundle(files);
    const { authorize } = createAuthorizer(bundle);
    const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'd'.repeat(64) };
    const principal = { issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: [] };
    const request: AuthorizationRequest = {
      action: 'sendToModel',
      principal,
      resource: { integration: 'dev-model', model: 'cloister-dev-extractive' },
      context: { workflow, classification: 'confidential', redacted: true, test: false },
    };
    if (authorize(request).decision !== 'allow') throw new Error('benchmark request must be allowed');

    const schema = fileText(files, 'schema.cedarschema');
    const policies = Object.fromEntries([...bundle.policies.values()].map((p) => [p.id, p.text]));
    const entities: EntityJson[] = [
      { uid: { type: 'Cloister::User', id: 'dev/alice' }, attrs: { issuer: 'dev', subject: 'alice', roles: [] }, parents: [{ type: 'Cloister::Group', id: 'claims-analysts' }] },
      { uid: { type: 'Cloister::Workflow', id: 'claims-rag@1.0.0' }, attrs: { ...workflow }, parents: [] },
      { uid: { type: 'Cloister::Classification', id: 'confidential' }, attrs: { rank: 2 }, parents: [] },
      { uid: { type: 'Cloister::Integration', id: 'dev-model' }, attrs: { maxClassification: { __entity: { type: 'Cloister::Classification', id: 'confidential' } }, embeddings: true }, parents: [] },
      { uid: { type: 'Cloister::Model', id: 'dev-model/cloister-dev-extractive' }, attrs: { integration: { __entity: { type: 'Cloister::Integration', id: 'dev-model' } }, name: 'cloister-dev-extractive' }, parents: [] },
    ];
    const naive = () =>
      isAuthorized({
        principal: { type: 'Cloister::User', id: 'dev/alice' },
        action: { type: 'Cloister::Action', id: 'sendToModel' },
        resource: { type: 'Cloister::Model', id: 'dev-model/cloister-dev-extractive' },
        context: { workflow: { __entity: { type: 'Cloister::Workflow', id: 'claims-rag@1.0.0' } }, classification: { __entity: { type: 'Cloister::Classification', id: 'confidential' } }, redacted: true, test: false },
        schema,
        validateRequest: true,
        policies: { staticPolicies: policies },
        entities,
      });

    const key = { kind: 'cloister-dev-issuer-key' as const, iss: 'https://issuer.cloister.dev', audience: 'cloister', jwk: keys.issuer.privateJwk };
    const token = await mintDevToken(key, { sub: 'alice', groups: ['claims-analysts'], roles: [], ttlSeconds: 3600 });
    const verifier = createTokenVerifier(bundle);
    const doc = parseWorkflow(readFileSync(fileURLToPath(new URL('../../protocol/workflows/demo/claims-rag.yaml', import.meta.url)), 'utf8'));

    const rows: [string, Samples][] = [
      ['authorize (parsed once at load)', await timeEach(() => authorize(request), { iterations: n })],
      ['isAuthorized (schema + policies parsed per call)', await timeEach(naive, { iterations: Math.ceil(n / 10) })],
      ['verify identity token (ES256)', await timeEach(() => verifier.verify(token), { iterations: n })],
      ['workflow digest (claims-rag, JCS + SHA-256)', await timeEach(() => workflowDigest(doc), { iterations: n })],
      ['load policy bundle (validate + preparse)', await timeEach(() => loadPolicyBundle(files), { iterations: quick ? 10 : 50, warmup: 3 })],
    ];
    const [gate, perCall, verify] = rows.map(([, s]) => s) as [Samples, Samples, Samples];
    return {
      name: 'policy',
      ranAt: new Date().toISOString(),
      machine: machineInfo(),
      markdown: markdownTable(
        ['operation', 'n', 'p50 µs', 'p99 µs', 'mean µs'],
        rows.map(([name, s]) => [name, s.count, fixed(s.p50Us, 1), fixed(s.p99Us, 1), fixed(s.meanUs, 1)]),
      ),
      targets: [
        target('authorize p50', Math.round(gate.p50Us), 'µs', '<=', 1000),
        target('authorize p99', Math.round(gate.p99Us), 'µs', '<=', 1000),
        target('parse-once speed-up (p50)', Number(fixed(perCall.p50Us / gate.p50Us, 1)), '×', '>=', 5),
        target('token verify p50', Math.round(verify.p50Us), 'µs', '<=', 1000),
        target('token verify p99', Math.round(verify.p99Us), 'µs', '<=', 2000),
      ],
      data: Object.fromEntries(rows),
    };
  },
};
