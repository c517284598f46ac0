/**
 * The workflow definition format (DESIGN §7.1, §7.2): one schema shared by the enclave, the
 * host's control plane and the CLI so that none of them can drift. TypeBox gives both the
 * static types and the JSON Schema the validator checks.
 *
 * Invariant the runtime keeps: a `redact` node fixes the run's redaction, and every value a
 * downstream `generate` or `agent` node sends to a model (retrieved documents and tool results
 * included) is redacted with the same vault before it leaves (docs/policies.md).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Id = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'lowercase id: letter, then letters, digits, _ or -' });
const Name = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'lowercase name: letter, then letters, digits or -' });
const EntityType = Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,62}$', description: 'entity type in upper case, e.g. PERSON' });
const Text = (maxLength: number) => Type.String({ maxLength });

/** A JSON Schema: an object; its own meaning is checked where it is used. */
const JsonSchema = Type.Record(Type.String(), Type.Unknown());

export const RedactConfigSchema = Type.Object(
  {
    entityTypes: Type.Array(EntityType, { minItems: 1, uniqueItems: true }),
    operator: Type.Union([Type.Literal('placeholder'), Type.Literal('mask'), Type.Literal('hash'), Type.Literal('drop')]),
    patterns: Type.Optional(
      Type.Array(Type.Object({ entityType: EntityType, regex: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }), {
        maxItems: 100,
      }),
    ),
    terms: Type.Optional(
      Type.Array(
        Type.Object(
          { entityType: EntityType, values: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 10_000 }) },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

const FilterValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String(), { maxItems: 100 })]);

export const RetrieveConfigSchema = Type.Object(
  {
    collection: Id,
    topK: Type.Integer({ minimum: 1, maximum: 100 }),
    mode: Type.Union([Type.Literal('lexical'), Type.Literal('vector'), Type.Literal('hybrid')]),
    filters: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$' }), FilterValue)),
    queryTemplate: Type.Optional(Text(4000)),
  },
  { additionalProperties: false },
);

const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_schema'), schema: JsonSchema }, { additionalProperties: false }),
]);

export const GenerateConfigSchema = Type.Object(
  {
    integration: Id,
    model: Type.String({ minLength: 1, maxLength: 200 }),
    systemPrompt: Type.Optional(Text(20_000)),
    promptTemplate: Type.String({ minLength: 1, maxLength: 20_000 }),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    maxTokens: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    responseFormat: Type.Optional(ResponseFormat),
  },
  { additionalProperties: false },
);

export const RestoreConfigSchema = Type.Object(
  {
    entityTypes: Type.Array(EntityType, { uniqueItems: true }),
    unknownPlaceholders: Type.Union([Type.Literal('keep'), Type.Literal('drop'), Type.Literal('fail')]),
  },
  { additionalProperties: false },
);

const ToolName = Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$', description: 'tool name as models accept it' });

export const RetrieveToolSchema = Type.Object(
  { name: ToolName, kind: Type.Literal('retrieve'), description: Text(2000), config: RetrieveConfigSchema },
  { additionalProperties: false },
);
export const WorkflowToolSchema = Type.Object(
  { name: ToolName, kind: Type.Literal('workflow'), description: Text(2000), workflow: Name },
  { additionalProperties: false },
);
export const LookupToolSchema = Type.Object(
  {
    name: ToolName,
    kind: Type.Literal('lookup'),
    description: Text(2000),
    entries: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);

/** Each agent tool kind and its schema. */
export const agentToolSchemas = {
  retrieve: RetrieveToolSchema,
  workflow: WorkflowToolSchema,
  lookup: LookupToolSchema,
} as const satisfies Record<string, TSchema>;

export type AgentToolKind = keyof typeof agentToolSchemas;

export const AgentToolSchema = Type.Union([RetrieveToolSchema, WorkflowToolSchema, LookupToolSchema]);

export const AgentConfigSchema = Type.Object(
  {
    goal: Type.String({ minLength: 1, maxLength: 20_000 }),
    integration: Id,
    model: Type.String({ minLength: 1, maxLength: 200 }),
    systemPrompt: Type.Optional(Text(20_000)),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    tools: Type.Array(AgentToolSchema, { minItems: 1, maxItems: 32 }),
    maxSteps: Type.Integer({ minimum: 1, maximum: 100 }),
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);

/** Each node kind and the schema of its `config`. */
export const nodeConfigSchemas = {
  redact: RedactConfigSchema,
  retrieve: RetrieveConfigSchema,
  generate: GenerateConfigSchema,
  restore: RestoreConfigSchema,
  agent: AgentConfigSchema,
} as const satisfies Record<string, TSchema>;

export type NodeKind = keyof typeof nodeConfigSchemas;
export const nodeKinds = Object.keys(nodeConfigSchemas) as readonly NodeKind[];

export type RedactConfig = Static<typeof RedactConfigSchema>;
export type RetrieveConfig = Static<typeof RetrieveConfigSchema>;
export type GenerateConfig = Static<typeof GenerateConfigSchema>;
export type RestoreConfig = Static<typeof RestoreConfigSchema>;
export type AgentConfig = Static<typeof AgentConfigSchema>;
export type AgentTool = Static<typeof AgentToolSchema>;

export type WorkflowNode =
  | { readonly id: string; readonly kind: 'redact'; readonly config: RedactConfig }
  | { readonly id: string; readonly kind: 'retrieve'; readonly config: RetrieveConfig }
  | { readonly id: string; readonly kind: 'generate'; readonly config: GenerateConfig }
  | { readonly id: string; readonly kind: 'restore'; readonly config: RestoreConfig }
  | { readonly id: string; readonly kind: 'agent'; readonly config: AgentConfig };

/** The envelope; each node's `config` is checked against its kind's schema separately. */
export const WorkflowEnvelopeSchema = Type.Object(
  {
    name: Name,
    version: Type.String({ pattern: '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$', description: 'MAJOR.MINOR.PATCH' }),
    description: Type.String({ maxLength: 4000 }),
    input: JsonSchema,
    output: JsonSchema,
    nodes: Type.Array(
      Type.Object(
        {
          id: Id,
          kind: Type.Union(nodeKinds.map((kind) => Type.Literal(kind))),
          config: Type.Record(Type.String(), Type.Unknown()),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 256 },
    ),
    edges: Type.Array(Type.Object({ from: Id, to: Id }, { additionalProperties: false }), { maxItems: 1024 }),
  },
  { additionalProperties: false },
);

export interface WorkflowEdge {
  readonly from: string;
  readonly to: string;
}

export interface WorkflowDocument {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly output: Readonly<Record<string, unknown>>;
  readonly nodes: readonly WorkflowNode[];
  readonly edges: readonly WorkflowEdge[];
}
