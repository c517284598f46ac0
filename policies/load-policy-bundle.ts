/**
 * Loads a policy bundle from the files a caller read (this area does no I/O): checks the file
 * set, the manifest, the Cedar schema and policies (strict validation, once), computes the
 * digest, and hands Cedar the parsed schema and policy set to keep for every later decision.
 *
 * Files: `manifest.yaml`, `schema.cedarschema`, and one or more `*.cedar` files (any folder
 * depth). Every policy carries a unique `@id("…")`, which is what decisions report.
 */
import {
  checkParseEntities,
  checkParseSchema,
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  schemaToJson,
  validate,
  type DetailedError,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { ValidationIssue } from '../protocol/cloister-error.ts';
import { readYaml } from '../protocol/yaml-text.ts';
import { bundleDigest } from './bundle-digest.ts';
import { manifestEntities, NAMESPACE, userEntity, workflowEntity } from './cedar-entities.ts';
import { PolicyBundleInvalidError, PolicyCedarInvalidError } from './errors.ts';
import { manifestIssues, parseEgressTarget, type EgressTarget, type PolicyManifest } from './manifest.ts';

export const MANIFEST_PATH = 'manifest.yaml';
export const SCHEMA_PATH = 'schema.cedarschema';

const MAX_FILES = 64;
const MAX_FILE_BYTES = 1024 * 1024;
const pathPattern = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The actions the code asks Cedar about; the schema must declare each of them. */
export const gateActions = ['invoke', 'readRun', 'exportAudit', 'retrieve', 'sendToModel', 'restore', 'callTool', 'approve', 'launch'] as const;
export type GateAction = (typeof gateActions)[number];

export interface PolicyBundleFile {
  /** Relative POSIX path inside the bundle, e.g. `policies/retrieve.cedar`. */
  readonly path: string;
  readonly content: string | Uint8Array;
}

export interface BundlePolicy {
  readonly id: string;
  readonly file: string;
  readonly effect: 'permit' | 'forbid';
  readonly text: string;
}

export interface PolicyBundle {
  /** Lowercase hex SHA-256 of the bundle's files (see bundle-digest.ts). */
  readonly digest: string;
  readonly manifest: PolicyManifest;
  readonly egress: readonly EgressTarget[];
  readonly policies: ReadonlyMap<string, BundlePolicy>;
  /** Cedar validation warnings (not fatal), as `file#policy-id: message`. */
  readonly warnings: readonly string[];
}

// The name under which Cedar's wasm side keeps this bundle's parsed schema and policy set.
const cedarHandles = new WeakMap<PolicyBundle, string>();

/** The Cedar handle of a loaded bundle; only bundles made by `loadPolicyBundle` have one. */
export function cedarHandle(bundle: PolicyBundle): string | undefined {
  return cedarHandles.get(bundle);
}

function detail(error: DetailedError): string {
  return error.help ? `${error.message} (${error.help})` : error.message;
}

export function loadPolicyBundle(files: readonly PolicyBundleFile[]): PolicyBundle {
  const { texts, bytes } = readFiles(files);
  const manifest = readManifest(texts.get(MANIFEST_PATH)!);
  const schemaText = texts.get(SCHEMA_PATH)!;
  const { policies, warnings } = readCedar(schemaText, texts, manifest);
  const digest = bundleDigest(bytes);

  const handle = `cloister-bundle:${digest}`;
  const record = Object.fromEntries([...policies.values()].map((p) => [p.id, p.text]));
  const schemaParsed = preparseSchema(handle, schemaText);
  const policiesParsed = preparsePolicySet(handle, { staticPolicies: record });
  if (schemaParsed.type === 'failure' || policiesParsed.type === 'failure') {
    const errors = [...(schemaParsed.type === 'failure' ? schemaParsed.errors : []), ...(policiesParsed.type === 'failure' ? policiesParsed.errors : [])];
    throw new PolicyCedarInvalidError({ issues: errors.map((e) => ({ path: '', message: detail(e) })) });
  }

  const egress = manifest.egress.map((entry) => parseEgressTarget(entry)!);
  const bundle: PolicyBundle = Object.freeze({ digest, manifest, egress, policies, warnings });
  cedarHandles.set(bundle, handle);
  return bundle;
}

function readFiles(files: readonly PolicyBundleFile[]): { texts: Map<string, string>; bytes: { path: string; bytes: Uint8Array }[] } {
  const issues: ValidationIssue[] = [];
  if (files.length > MAX_FILES) throw new PolicyBundleInvalidError({ issues: [{ path: '', message: `more than ${MAX_FILES} files` }] });
  const texts = new Map<string, string>();
  const bytes: { path: string; bytes: Uint8Array }[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for (const file of files) {
    if (typeof file.path !== 'string' || !pathPattern.test(file.path) || file.path.split('/').some((s) => s === '.' || s === '..')) {
      issues.push({ path: String(file.path).slice(0, 200), message: 'must be a relative path of letters, digits, ., _ and -' });
      continue;
    }
    if (texts.has(file.path)) {
      issues.push({ path: file.path, message: 'appears twice' });
      continue;
    }
    const content = typeof file.content === 'string' ? new TextEncoder().encode(file.content) : file.content;
    if (content.length > MAX_FILE_BYTES) {
      issues.push({ path: file.path, message: `larger than ${MAX_FILE_BYTES} bytes` });
      continue;
    }
    const known = file.path === MANIFEST_PATH || file.path === SCHEMA_PATH || file.path.endsWith('.cedar');
    if (!known) {
      issues.push({ path: file.path, message: `not part of the bundle format (${MANIFEST_PATH}, ${SCHEMA_PATH}, *.cedar)` });
      continue;
    }
    try {
      texts.set(file.path, decoder.decode(content));
    } catch {
      issues.push({ path: file.path, message: 'is not UTF-8' });
      continue;
    }
    bytes.push({ path: file.path, bytes: content });
  }
  if (!files.some((f) => f.path === MANIFEST_PATH)) issues.push({ path: MANIFEST_PATH, message: 'is missing' });
  if (!files.some((f) => f.path === SCHEMA_PATH)) issues.push({ path: SCHEMA_PATH, message: 'is missing' });
  if (!files.some((f) => typeof f.path === 'string' && f.path.endsWith('.cedar'))) issues.push({ path: '*.cedar', message: 'no policy file' });
  if (issues.length > 0) throw new PolicyBundleInvalidError({ issues });
  return { texts, bytes };
}

function readManifest(text: string): PolicyManifest {
  const parsed = readYaml(text);
  if (!parsed.ok) throw new PolicyBundleInvalidError({ issues: [{ path: MANIFEST_PATH, message: parsed.message }] });
  const issues = manifestIssues(parsed.value);
  if (issues.length > 0) {
    throw new PolicyBundleInvalidError({ issues: issues.map((i) => ({ path: `${MANIFEST_PATH}#${i.path}`, message: i.message })) });
  }
  return parsed.value as PolicyManifest;
}

function readCedar(
  schemaText: string,
  texts: ReadonlyMap<string, string>,
  manifest: PolicyManifest,
): { policies: Map<string, BundlePolicy>; warnings: string[] } {
  const issues: ValidationIssue[] = [];
  const schemaParsed = checkParseSchema(schemaText);
  if (schemaParsed.type === 'failure') {
    throw new PolicyCedarInvalidError({ issues: schemaParsed.errors.map((e) => ({ path: SCHEMA_PATH, message: detail(e) })) });
  }
  issues.push(...contractIssues(schemaText, manifest));

  const policies = new Map<string, BundlePolicy>();
  const policyFiles = [...texts.keys()].filter((path) => path.endsWith('.cedar')).sort();
  for (const file of policyFiles) {
    const parts = policySetTextToParts(texts.get(file)!);
    if (parts.type === 'failure') {
      issues.push(...parts.errors.map((e) => ({ path: file, message: detail(e) })));
      continue;
    }
    if (parts.policy_templates.length > 0) issues.push({ path: file, message: 'policy templates are not supported' });
    parts.policies.forEach((text, index) => {
      const json = policyToJson(text);
      if (json.type === 'failure') {
        issues.push(...json.errors.map((e) => ({ path: `${file}#${index}`, message: detail(e) })));
        return;
      }
      const id = json.json.annotations?.['id'];
      if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) {
        issues.push({ path: `${file}#${index}`, message: 'policy needs an @id("…") of letters, digits, ., _, : and -' });
        return;
      }
      const existing = policies.get(id);
      if (existing) {
        issues.push({ path: `${file}#${id}`, message: `@id also used in ${existing.file}` });
        return;
      }
      policies.set(id, { id, file, effect: json.json.effect, text });
    });
  }
  if (issues.length > 0) throw new PolicyCedarInvalidError({ issues });
  if (policies.size === 0) throw new PolicyCedarInvalidError({ issues: [{ path: '*.cedar', message: 'the bundle has no policies' }] });

  const where = (id: string) => `${policies.get(id)?.file ?? ''}#${id}`;
  const validation = validate({
    schema: schemaText,
    policies: { staticPolicies: Object.fromEntries([...policies.values()].map((p) => [p.id, p.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') {
    throw new PolicyCedarInvalidError({ issues: validation.errors.map((e) => ({ path: '', message: detail(e) })) });
  }
  if (validation.validationErrors.length > 0) {
    throw new PolicyCedarInvalidError({
      issues: validation.validationErrors.map((e) => ({ path: where(e.policyId), message: detail(e.error) })),
    });
  }
  const warnings = [
    ...validation.validationWarnings.map((w) => `${where(w.policyId)}: ${detail(w.error)}`),
    ...validation.otherWarnings.map(detail),
  ];
  return { policies, warnings };
}

/** The schema must declare every gate action and accept the entities the code builds. */
function contractIssues(schemaText: string, manifest: PolicyManifest): ValidationIssue[] {
  const json = schemaToJson(schemaText);
  if (json.type === 'failure') return json.errors.map((e) => ({ path: SCHEMA_PATH, message: detail(e) }));
  const namespace = json.json[NAMESPACE];
  if (!namespace) return [{ path: SCHEMA_PATH, message: `declares no namespace ${NAMESPACE}` }];
  const issues: ValidationIssue[] = gateActions
    .filter((action) => !Object.hasOwn(namespace.actions, action))
    .map((action) => ({ path: SCHEMA_PATH, message: `declares no action ${NAMESPACE}::Action::"${action}"` }));
  const sample = [
    ...manifestEntities(manifest),
    userEntity({ issuer: 'sample', subject: 'sample', groups: ['sample'], roles: ['sample'] }),
    workflowEntity({ name: 'sample', version: '0.0.0', digest: '0'.repeat(64) }),
  ];
  const entities = checkParseEntities({ entities: sample, schema: schemaText });
  if (entities.type === 'failure') {
    issues.push(...entities.errors.map((e) => ({ path: SCHEMA_PATH, message: `does not accept Cloister's entities: ${detail(e)}` })));
  }
  return issues;
}
