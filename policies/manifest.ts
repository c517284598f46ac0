/**
 * The policy bundle manifest (DESIGN §7.3): issuers, reviewers and approval groups,
 * integrations, collections and their classification, the egress allowlist, redaction
 * requirements and limits. The envelope is TypeBox; the rules that span fields (references,
 * thresholds, key material, egress coverage) are checked after it, all issues at once.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { ValidationIssue } from '../protocol/cloister-error.ts';
import { schemaIssues } from '../protocol/schema-issues.ts';

const Id = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$' });
const EntityType = Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,62}$' });
const Algorithm = Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA')]);

const PublicJwk = Type.Object(
  {
    kty: Type.Union([Type.Literal('EC'), Type.Literal('OKP')]),
    crv: Type.Union([Type.Literal('P-256'), Type.Literal('Ed25519')]),
    x: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
    y: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
    kid: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    alg: Type.Optional(Algorithm),
    use: Type.Optional(Type.Literal('sig')),
  },
  { additionalProperties: false },
);

const PositiveInt = (maximum: number) => Type.Integer({ minimum: 1, maximum });

export const ManifestSchema = Type.Object(
  {
    version: Type.Literal(1),
    classifications: Type.Array(Id, { minItems: 1, maxItems: 16, uniqueItems: true }),
    issuers: Type.Array(
      Type.Object(
        {
          id: Id,
          iss: Type.String({ minLength: 1, maxLength: 500 }),
          audience: Type.String({ minLength: 1, maxLength: 500 }),
          algorithms: Type.Optional(Type.Array(Algorithm, { minItems: 1, uniqueItems: true })),
          maxLifetimeSeconds: PositiveInt(30 * 86400),
          clockToleranceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
          claims: Type.Optional(
            Type.Object(
              { groups: Type.Optional(Type.String({ minLength: 1 })), roles: Type.Optional(Type.String({ minLength: 1 })) },
              { additionalProperties: false },
            ),
          ),
          /**
           * Group names are global in Cedar; when set, only these groups are taken from this
           * issuer's tokens (others are dropped), so a second issuer cannot assert the first's groups.
           */
          allowedGroups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { uniqueItems: true })),
          jwks: Type.Object({ keys: Type.Array(PublicJwk, { minItems: 1, maxItems: 16 }) }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 32 },
    ),
    reviewers: Type.Array(
      Type.Object({ id: Id, name: Type.Optional(Type.String({ maxLength: 200 })), key: PublicJwk }, { additionalProperties: false }),
      { maxItems: 256 },
    ),
    approvalGroups: Type.Array(
      Type.Object(
        { id: Id, members: Type.Array(Id, { minItems: 1, uniqueItems: true }), threshold: PositiveInt(256) },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    integrations: Type.Array(
      Type.Object(
        {
          id: Id,
          baseUrl: Type.String({ minLength: 1, maxLength: 2000 }),
          models: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, uniqueItems: true }),
          embeddingModels: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { uniqueItems: true })),
          maxClassification: Id,
        },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    collections: Type.Array(
      Type.Object(
        { id: Id, classification: Id, test: Type.Boolean(), description: Type.Optional(Type.String({ maxLength: 2000 })) },
        { additionalProperties: false },
      ),
      { maxItems: 1024 },
    ),
    egress: Type.Array(Type.String({ maxLength: 300 }), { maxItems: 256, uniqueItems: true }),
    redaction: Type.Optional(
      Type.Object({ required: Type.Array(EntityType, { uniqueItems: true }) }, { additionalProperties: false }),
    ),
    limits: Type.Object(
      {
        maxRequestBytes: PositiveInt(64 * 1024 * 1024),
        maxSteps: PositiveInt(100),
        maxTokensPerRun: PositiveInt(10_000_000),
        maxOutputTokens: PositiveInt(1_000_000),
        maxTopK: PositiveInt(100),
        maxRunSeconds: PositiveInt(86_400),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type PolicyManifest = Static<typeof ManifestSchema>;
export type IssuerConfig = PolicyManifest['issuers'][number];
export type ReviewerConfig = PolicyManifest['reviewers'][number];
export type ApprovalGroupConfig = PolicyManifest['approvalGroups'][number];
export type IntegrationConfig = PolicyManifest['integrations'][number];
export type CollectionConfig = PolicyManifest['collections'][number];
export type Limits = PolicyManifest['limits'];

export interface EgressTarget {
  readonly host: string;
  readonly port: number;
}

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const egressPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})$/;

/** Parses `host:port` (IPv6 in brackets); `undefined` when it is not one. */
export function parseEgressTarget(text: string): EgressTarget | undefined {
  const match = egressPattern.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1]!.toLowerCase(), port };
}

/** The `host:port` an integration's base URL is reached at. */
export function endpointOf(baseUrl: string): EgressTarget | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host: url.hostname.toLowerCase(), port };
}

/** Validates a parsed manifest; returns the issues (empty when it is valid). Paths are JSON Pointers. */
export function manifestIssues(value: unknown): ValidationIssue[] {
  // Private key material gets its own message before the schema calls it an unexpected property.
  const leaks = privateKeyIssues(value);
  if (leaks.length > 0) return leaks;
  const issues = schemaIssues(ManifestSchema, value);
  if (issues.length > 0) return issues;
  const m = value as PolicyManifest;

  const unique = (items: readonly { id: string }[], base: string) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item.id)) issues.push({ path: `/${base}/${index}/id`, message: `duplicate id '${item.id}'` });
      seen.add(item.id);
    });
    return seen;
  };
  unique(m.issuers, 'issuers');
  const reviewers = unique(m.reviewers, 'reviewers');
  unique(m.approvalGroups, 'approvalGroups');
  unique(m.integrations, 'integrations');
  unique(m.collections, 'collections');
  const levels = new Set(m.classifications);
  const issValues = new Set<string>();

  m.issuers.forEach((issuer, i) => {
    if (issValues.has(issuer.iss)) issues.push({ path: `/issuers/${i}/iss`, message: 'two issuers share this iss' });
    issValues.add(issuer.iss);
    const algorithms = issuer.algorithms ?? ['ES256', 'EdDSA'];
    issuer.jwks.keys.forEach((key, k) => {
      issues.push(...keyIssues(key, `/issuers/${i}/jwks/keys/${k}`));
      const alg = key.kty === 'EC' ? 'ES256' : 'EdDSA';
      if (!algorithms.includes(alg)) issues.push({ path: `/issuers/${i}/jwks/keys/${k}`, message: `key needs ${alg}, which the issuer does not allow` });
    });
    const kids = issuer.jwks.keys.map((key) => key.kid);
    if (kids.length > 1 && (kids.includes(undefined) || new Set(kids).size !== kids.length)) {
      issues.push({ path: `/issuers/${i}/jwks/keys`, message: 'keys of an issuer with several keys need distinct kids' });
    }
  });
  m.reviewers.forEach((reviewer, i) => issues.push(...keyIssues(reviewer.key, `/reviewers/${i}/key`)));
  m.approvalGroups.forEach((group, g) => {
    group.members.forEach((member, k) => {
      if (!reviewers.has(member)) issues.push({ path: `/approvalGroups/${g}/members/${k}`, message: `no reviewer has id '${member}'` });
    });
    if (group.threshold > group.members.length) {
      issues.push({ path: `/approvalGroups/${g}/threshold`, message: `threshold ${group.threshold} exceeds the ${group.members.length} members` });
    }
  });

  const egress = new Set<string>();
  m.egress.forEach((entry, e) => {
    const target = parseEgressTarget(entry);
    if (!target) issues.push({ path: `/egress/${e}`, message: 'must be host:port with a port from 1 to 65535' });
    else egress.add(`${target.host}:${target.port}`);
  });
  m.integrations.forEach((integration, i) => {
    if (!levels.has(integration.maxClassification)) {
      issues.push({ path: `/integrations/${i}/maxClassification`, message: `unknown classification '${integration.maxClassification}'` });
    }
    const endpoint = endpointOf(integration.baseUrl);
    if (!endpoint) issues.push({ path: `/integrations/${i}/baseUrl`, message: 'must be an http or https URL without credentials' });
    else if (!egress.has(`${endpoint.host}:${endpoint.port}`)) {
      issues.push({ path: `/integrations/${i}/baseUrl`, message: `${endpoint.host}:${endpoint.port} is not in the egress allowlist` });
    }
  });
  m.collections.forEach((collection, c) => {
    if (!levels.has(collection.classification)) {
      issues.push({ path: `/collections/${c}/classification`, message: `unknown classification '${collection.classification}'` });
    }
  });
  return issues;
}

function privateKeyIssues(value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const visit = (node: unknown, path: string, depth: number) => {
    if (depth > 8 || typeof node !== 'object' || node === null) return;
    for (const [key, child] of Object.entries(node)) {
      const childPath = `${path}/${key}`;
      if (privateMembers.includes(key) && /\/(key|keys\/[0-9]+)$/.test(path)) {
        issues.push({ path: childPath, message: 'private key material does not belong in a policy bundle' });
      } else visit(child, childPath, depth + 1);
    }
  };
  visit(value, '', 0);
  return issues;
}

function keyIssues(key: JsonWebKey, path: string): ValidationIssue[] {
  if (key.kty === 'EC' && (key.crv !== 'P-256' || typeof key.y !== 'string')) return [{ path, message: 'an EC key must be P-256 with x and y' }];
  if (key.kty === 'OKP' && (key.crv !== 'Ed25519' || key.y !== undefined)) return [{ path, message: 'an OKP key must be Ed25519 with x only' }];
  if (key.alg !== undefined && key.alg !== (key.kty === 'EC' ? 'ES256' : 'EdDSA')) return [{ path: `${path}/alg`, message: 'does not match the key type' }];
  try {
    const { kid: _kid, alg: _alg, use: _use, ...material } = key;
    createPublicKey({ key: material, format: 'jwk' });
  } catch {
    return [{ path, message: 'is not a valid public key' }];
  }
  return [];
}
