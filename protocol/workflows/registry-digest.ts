/**
 * The digest of the launched-workflow registry, the `workflows` field of the attestation's
 * `user_data` (DESIGN §3.2): a client that pins it knows exactly which approved workflow
 * versions the enclave will run.
 *
 *   SHA-256( JCS({ "v": 1, "workflows": [{name, version, digest}, …] }) )
 *
 * with the list sorted by name, then version (UTF-16 code unit order, as JCS sorts keys), so
 * the order launches happened in does not matter. Lowercase hex.
 */
import { canonicalJsonDigest } from './canonical-json.ts';
import { WorkflowInvalidError } from './errors.ts';

export interface LaunchedWorkflow {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function registryDigest(workflows: readonly LaunchedWorkflow[]): string {
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  workflows.forEach((w, index) => {
    const key = `${w.name}@${w.version}`;
    if (seen.has(key)) issues.push({ path: `/${index}`, message: `${key} appears twice` });
    seen.add(key);
    if (!/^[0-9a-f]{64}$/.test(w.digest)) issues.push({ path: `/${index}/digest`, message: 'must be 64 lowercase hex digits (SHA-256)' });
  });
  if (issues.length > 0) throw new WorkflowInvalidError({ issues });
  const sorted = [...workflows]
    .map((w) => ({ name: w.name, version: w.version, digest: w.digest }))
    .sort((a, b) => compare(a.name, b.name) || compare(a.version, b.version));
  return canonicalJsonDigest({ v: 1, workflows: sorted });
}
