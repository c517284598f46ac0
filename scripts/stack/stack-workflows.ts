/**
 * The workflow side of `cloister up` (DESIGN §9): a development policy bundle that trusts
 * development reviewer and issuer keys and points the `dev-model` integration at the running dev
 * model server; the demo workflows created, submitted, approved with those reviewer keys (meeting
 * the bundle's threshold) and launched through the host's control plane; a development token.
 *
 *   DATA_DIR/dev-policy/issuer-key.json      the `dev` issuer's private key (kept across runs)
 *   DATA_DIR/dev-policy/reviewers/ID.json    reviewer private keys (kept across runs)
 *   DATA_DIR/dev-policy/bundle/              the bundle the host AND the enclave load (and PCR2 measures)
 *   DATA_DIR/dev-token.jwt                   a token for `claims-analysts` (24 h)
 *
 * Keys are made once per data directory, so approvals stored in the control database stay valid
 * when the stack restarts; the bundle is rewritten each time with the model server's URL.
 */
import type { JsonWebKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rewriteManifestKeys } from '../../policies/dev-manifest.ts';
import { loadPolicyBundle, MANIFEST_PATH } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { readYaml } from '../../protocol/yaml-text.ts';
import { CONTROL_PREFIX } from '../../protocol/workflows/control-api.ts';
import { signReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { publicPart, readIssuerKeyFile, readReviewerKeyFile } from '../policy/key-files.ts';
import { DEFAULT_BUNDLE_DIR, devModelEndpoints, writeDevKeys } from '../policy/dev-keys.ts';
import { mintDevToken } from '../policy/token.ts';
import { StackSetupError } from './errors.ts';

export const DEMO_WORKFLOWS = ['claims-rag', 'claims-agent'] as const;
const demoDir = new URL('../../protocol/workflows/demo/', import.meta.url);
/** The analyst identity of the demo token: may invoke `claims-*`, sees names restored, not SSNs. */
export const DEMO_TOKEN_CLAIMS = { sub: 'demo-analyst', groups: ['claims-analysts'], roles: [] } as const;

export interface StackPolicy {
  readonly bundleDir: string;
  readonly digest: string;
  readonly issuerKeyFile: string;
  readonly reviewerKeyFiles: Readonly<Record<string, string>>;
}

/** Writes (or refreshes) the development bundle under `DATA_DIR/dev-policy/`. */
export async function prepareStackPolicy(options: { readonly dataDir: string; readonly modelUrl: string }): Promise<StackPolicy> {
  const outDir = join(options.dataDir, 'dev-policy');
  const issuerKeyFile = join(outDir, 'issuer-key.json');
  if (!existsSync(issuerKeyFile)) {
    await rm(outDir, { recursive: true, force: true }); // an interrupted earlier attempt
    const made = await writeDevKeys(outDir, { modelUrl: options.modelUrl });
    return { bundleDir: made.bundleDir, digest: made.digest, issuerKeyFile, reviewerKeyFiles: made.reviewerKeys };
  }
  // Keys exist: rewrite the shipped bundle with their public halves and the current model URL.
  const files = await readPolicyBundleDir(DEFAULT_BUNDLE_DIR);
  const reviewerKeyFiles: Record<string, string> = {};
  const reviewers: Record<string, JsonWebKey> = {};
  const manifest = files.find((f) => f.path === MANIFEST_PATH);
  if (!manifest) throw new StackSetupError({ step: 'dev-policy', reason: 'the shipped bundle has no manifest' });
  const parsed = readYaml(Buffer.from(manifest.content).toString('utf8'));
  const shipped = (parsed.ok ? parsed.value : {}) as { reviewers?: { id: string }[]; integrations?: { id: string }[] };
  const reviewerIds = shipped.reviewers?.map((r) => r.id) ?? [];
  for (const id of reviewerIds) {
    const path = join(outDir, 'reviewers', `${id}.json`);
    if (!existsSync(path)) continue;
    reviewerKeyFiles[id] = path;
    reviewers[id] = publicPart((await readReviewerKeyFile(path)).jwk);
  }
  const issuer = await readIssuerKeyFile(issuerKeyFile);
  const text = rewriteManifestKeys(Buffer.from(manifest.content).toString('utf8'), {
    issuers: { dev: publicPart(issuer.jwk) },
    reviewers,
    integrations: devModelEndpoints(shipped, options.modelUrl),
  });
  const bundleFiles = files.map((f) => (f.path === MANIFEST_PATH ? { path: f.path, content: new TextEncoder().encode(text) } : f));
  const bundle = loadPolicyBundle(bundleFiles);
  const bundleDir = join(outDir, 'bundle');
  await rm(bundleDir, { recursive: true, force: true });
  for (const file of bundleFiles) {
    const target = join(bundleDir, ...file.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
  return { bundleDir, digest: bundle.digest, issuerKeyFile, reviewerKeyFiles };
}

/**
 * Creates, submits, approves and launches the demo workflows through the control plane (what an
 * author, reviewers and an operator would do with `cloister workflow …`). Idempotent: a workflow
 * already launched is left as it is.
 */
export async function launchDemoWorkflows(options: {
  readonly url: string;
  readonly adminKey?: string;
  readonly policy: StackPolicy;
  readonly log: (line: string) => void;
}): Promise<void> {
  const headers: Record<string, string> = options.adminKey ? { authorization: `Bearer ${options.adminKey}` } : {};
  const call = async (method: string, path: string, body?: { type: string; text: string }): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${options.url}${CONTROL_PREFIX}${path}`, {
      method,
      headers: body ? { ...headers, 'content-type': body.type } : headers,
      ...(body ? { body: body.text } : {}),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, json };
  };
  const ok = (step: string, result: { status: number; json: Record<string, unknown> }) => {
    if (result.status >= 300) {
      const code = (result.json['error'] as { code?: string } | undefined)?.code ?? `HTTP ${result.status}`;
      throw new StackSetupError({ step, reason: code });
    }
    return result.json;
  };
  const reviewerIds = Object.keys(options.policy.reviewerKeyFiles).sort();
  for (const name of DEMO_WORKFLOWS) {
    const text = await readFile(new URL(`${name}.yaml`, demoDir), 'utf8');
    const document = parseWorkflow(text);
    const ref = `/workflows/${encodeURIComponent(document.name)}/${encodeURIComponent(document.version)}`;
    const shown = await call('GET', ref);
    let state = shown.status === 200 ? (shown.json['state'] as string) : undefined;
    if (state === undefined) {
      ok(`create ${name}`, await call('POST', '/workflows', { type: 'application/yaml', text }));
      state = 'draft';
    }
    if (state === 'draft') {
      ok(`submit ${name}`, await call('POST', `${ref}/submit`));
      state = 'in_review';
    }
    if (state === 'in_review') {
      const digest = workflowDigest(document);
      // Reviewers in order until the control plane says approved (the bundle's N of M).
      for (const reviewer of reviewerIds) {
        const key = await readReviewerKeyFile(options.policy.reviewerKeyFiles[reviewer]!);
        const review = await signReview({ key: key.jwk, reviewer, workflow: { name: document.name, version: document.version, digest }, decision: 'approve', at: Date.now() / 1000 });
        const after = ok(`approve ${name}`, await call('POST', `${ref}/reviews`, { type: 'application/json', text: JSON.stringify({ review }) }));
        state = (after['workflow'] as { state?: string } | undefined)?.state ?? state;
        if (state !== 'in_review') break;
      }
    }
    if (state === 'approved' || state === 'paused') {
      ok(`launch ${name}`, await call('POST', `${ref}/${state === 'paused' ? 'resume' : 'launch'}`));
      state = 'launched';
    }
    if (state !== 'launched') throw new StackSetupError({ step: `launch ${name}`, reason: `the workflow is ${state}` });
    options.log(`[up] ${name}@${document.version} launched (approved with development reviewer keys)`);
  }
}

/** A development token for the demo analyst, written to `DATA_DIR/dev-token.jwt`. */
export async function writeDevToken(dataDir: string, policy: StackPolicy): Promise<string> {
  const token = await mintDevToken(await readIssuerKeyFile(policy.issuerKeyFile), { ...DEMO_TOKEN_CLAIMS, groups: [...DEMO_TOKEN_CLAIMS.groups], roles: [], ttlSeconds: 86_400 });
  const path = join(dataDir, 'dev-token.jwt');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return path;
}
