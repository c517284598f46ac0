/**
 * `cloister policy dev-keys --out DIR [--bundle SRC] [--model-url URL]`: makes a development key
 * set and the policy bundle that trusts it (and, with `--model-url`, points the `dev-model`
 * integration and the egress allowlist at the running development model server). Writes
 *
 *   DIR/issuer-key.json          the `dev` issuer's private key (for `cloister token`)
 *   DIR/reviewers/ID.json        one private key per reviewer in the manifest (for `workflow approve`)
 *   DIR/bundle/…                 SRC (default: policies/default) with those public keys in its manifest
 *
 * and prints the new bundle's digest. Private key files are 0600 and never overwritten.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { rewriteManifestKeys } from '../../policies/dev-manifest.ts';
import { loadPolicyBundle, MANIFEST_PATH, type PolicyBundleFile } from '../../policies/load-policy-bundle.ts';
import { readYaml } from '../../protocol/yaml-text.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { generateJwk, writeKeyFile } from './key-files.ts';

export const DEFAULT_BUNDLE_DIR = fileURLToPath(new URL('../../policies/default/', import.meta.url));
const DEV_ISSUER = 'dev';
/** Integrations that stand for the development model server; `--model-url` moves all of them that the manifest has. */
export const DEV_MODEL_INTEGRATIONS = ['dev-model', 'dev-model-internal'] as const;

/** `{id: url}` for each development-model integration `manifest` declares. */
export function devModelEndpoints(manifest: { readonly integrations?: readonly { readonly id: string }[] }, url: string): Record<string, string> {
  const ids = new Set((manifest.integrations ?? []).map((i) => i.id));
  return Object.fromEntries(DEV_MODEL_INTEGRATIONS.filter((id) => ids.has(id)).map((id) => [id, url]));
}

export interface DevKeysResult {
  readonly digest: string;
  readonly bundleDir: string;
  readonly issuerKey: string;
  readonly reviewerKeys: Readonly<Record<string, string>>;
}

export async function writeDevKeys(
  outDir: string,
  options: { readonly sourceDir?: string; readonly modelUrl?: string } = {},
): Promise<DevKeysResult> {
  const sourceDir = options.sourceDir ?? DEFAULT_BUNDLE_DIR;
  const files = await readPolicyBundleDir(sourceDir);
  const manifestFile = files.find((f) => f.path === MANIFEST_PATH);
  if (!manifestFile) throw new UsageError(`no ${MANIFEST_PATH} in ${sourceDir}`);
  const manifestText = Buffer.from(manifestFile.content).toString('utf8');
  const parsed = readYaml(manifestText);
  const manifest = (parsed.ok ? parsed.value : {}) as { issuers?: { id: string; iss: string; audience: string }[]; reviewers?: { id: string }[]; integrations?: { id: string }[] };
  const issuer = manifest.issuers?.find((i) => i.id === DEV_ISSUER);
  if (!issuer) throw new UsageError(`the source manifest has no issuer with id '${DEV_ISSUER}'`);

  const issuerKey = generateJwk('ES256', 'dev-issuer');
  const reviewerKeys = Object.fromEntries((manifest.reviewers ?? []).map((r) => [r.id, generateJwk('EdDSA')]));
  const rewritten = rewriteManifestKeys(manifestText, {
    issuers: { [DEV_ISSUER]: issuerKey.publicJwk },
    reviewers: Object.fromEntries(Object.entries(reviewerKeys).map(([id, k]) => [id, k.publicJwk])),
    ...(options.modelUrl ? { integrations: devModelEndpoints(manifest, options.modelUrl) } : {}),
  });
  const bundleFiles: PolicyBundleFile[] = files.map((f) => (f.path === MANIFEST_PATH ? { path: f.path, content: rewritten } : f));
  // Refuse before writing anything if the result would not load.
  const bundle = loadPolicyBundle(bundleFiles);

  await mkdir(join(outDir, 'reviewers'), { recursive: true });
  const issuerPath = join(outDir, 'issuer-key.json');
  await writeKeyFile(issuerPath, { kind: 'cloister-dev-issuer-key', iss: issuer.iss, audience: issuer.audience, jwk: issuerKey.privateJwk });
  const reviewerPaths: Record<string, string> = {};
  for (const [id, key] of Object.entries(reviewerKeys)) {
    reviewerPaths[id] = join(outDir, 'reviewers', `${id}.json`);
    await writeKeyFile(reviewerPaths[id], { kind: 'cloister-reviewer-key', reviewer: id, jwk: key.privateJwk });
  }
  const bundleDir = join(outDir, 'bundle');
  for (const file of bundleFiles) {
    const target = join(bundleDir, ...file.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
  return { digest: bundle.digest, bundleDir, issuerKey: issuerPath, reviewerKeys: reviewerPaths };
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string' }, bundle: { type: 'string' }, 'model-url': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  if (!values.out) throw new UsageError('--out DIR is required');
  const options = { ...(values.bundle ? { sourceDir: values.bundle } : {}), ...(values['model-url'] ? { modelUrl: values['model-url'] } : {}) };
  writeJson(io.stdout, await writeDevKeys(values.out, options));
  return EXIT_OK;
}
