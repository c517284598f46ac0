/**
 * `retrieve`: the retrieve gate for the collection, then a search over its documents — lexical
 * BM25 (the index built once per opened collection), vector (embeddings from an integration that
 * offers them, through `models.embed`), or hybrid (reciprocal rank fusion of both) — with filters
 * and top-k. Documents classified above what the bundle says of their collection are withheld;
 * the run's classification rises to the data read. Documents go into the node output in the
 * clear (it is checkpointed sealed); model nodes redact them when they render them into a prompt.
 *
 * Embedding sends text to a model, so it passes the sendToModel gate like a generate node, and
 * under a redact node what is embedded is redacted: documents with each detected value replaced
 * by its bare type (`<PERSON>`, the same for every run, so their embeddings are cached per
 * collection), plus any value of this run's vault the detector missed; queries likewise.
 */
import type { RetrieveConfig } from '../../../protocol/workflows/workflow-document.ts';
import { createBm25Index } from '../bm25-index.ts';
import { RunCollectionUnavailableError } from '../errors.ts';
import { renderTemplate, type RetrievedDocument } from '../render-template.ts';
import type { EmbeddedTexts, RunContext } from '../run-context.ts';
import type { CollectionDocument, OpenedCollection } from '../types.ts';

export interface RetrieveOutput {
  readonly documents: readonly RetrievedDocument[];
}

const RRF_K = 60;
const EMBED_BATCH = 64;

export async function runRetrieveNode(ctx: RunContext, id: string, config: RetrieveConfig, redacted: boolean): Promise<RetrieveOutput> {
  const template = config.queryTemplate ?? '{{input.question}}';
  const query = renderTemplate(template, { input: ctx.input, outputs: ctx.outputs }, (text) => text);
  return { documents: await searchCollection(ctx, id, config, query, redacted) };
}

/** The retrieve gate and a search; shared by retrieve nodes and agents' retrieve tools. */
export async function searchCollection(ctx: RunContext, node: string, config: RetrieveConfig, query: string, redacted: boolean): Promise<RetrievedDocument[]> {
  ctx.require({ action: 'retrieve', principal: ctx.principal, resource: { collection: config.collection }, context: { workflow: ctx.ref, test: ctx.test } }, node);
  const declared = ctx.services.bundle.manifest.collections.find((c) => c.id === config.collection);
  if (!declared) throw new RunCollectionUnavailableError({ collection: config.collection });
  const collection = await ctx.services.collections.open(config.collection);
  if (collection.id !== config.collection) throw new RunCollectionUnavailableError({ collection: config.collection });
  const levels = ctx.services.bundle.manifest.classifications;
  const ceiling = levels.indexOf(declared.classification);
  const rank = (level: string | undefined) => (level === undefined ? -1 : levels.indexOf(level) === -1 ? levels.length : levels.indexOf(level));
  const accept = (i: number) => {
    const doc = collection.documents[i]!;
    return rank(doc.classification) <= ceiling && matchesFilters(doc, config.filters);
  };
  // The data read is at least as classified as the bundle and the collection itself say.
  ctx.raiseClassification(declared.classification);
  ctx.raiseClassification(collection.classification);
  // Placeholders in the query stand for values the run holds; the lexical search runs on the real text.
  const searchText = ctx.redaction ? ctx.redaction.reveal(query) : query;
  const topK = Math.min(config.topK, ctx.limits.maxTopK);

  let hits: { index: number; score: number }[];
  if (config.mode === 'lexical') {
    hits = lexicalIndex(ctx, collection).search(searchText, topK, accept);
  } else {
    const vector = await vectorSearch(ctx, node, collection, searchText, redacted, accept);
    if (config.mode === 'vector') hits = vector.slice(0, topK);
    else {
      const lexical = lexicalIndex(ctx, collection).search(searchText, collection.documents.length, accept);
      hits = fuse([lexical, vector]).slice(0, topK);
    }
  }
  return hits.map(({ index: i, score }) => {
    const doc = collection.documents[i]!;
    if (!ctx.documents.some((d) => d.collection === collection.id && d.id === doc.id)) {
      ctx.documents.push({ collection: collection.id, id: doc.id, sha256: doc.sha256 });
    }
    return { id: doc.id, collection: collection.id, score: Math.round(score * 1e6) / 1e6, text: doc.text };
  });
}

function lexicalIndex(ctx: RunContext, collection: OpenedCollection) {
  let index = ctx.services.indexes.get(collection);
  if (!index) {
    index = createBm25Index(collection.documents.map((d) => d.text));
    ctx.services.indexes.set(collection, index);
  }
  return index;
}

async function vectorSearch(
  ctx: RunContext,
  node: string,
  collection: OpenedCollection,
  query: string,
  redacted: boolean,
  accept: (index: number) => boolean,
): Promise<{ index: number; score: number }[]> {
  const integration = ctx.services.bundle.manifest.integrations.find((i) => (i.embeddingModels ?? []).length > 0);
  // workflowBundleIssues refuses vector retrieval without such an integration; this is the backstop.
  if (!integration) throw new RunCollectionUnavailableError({ collection: collection.id });
  const model = integration.embeddingModels![0]!;
  const redaction = redacted ? ctx.redaction : undefined;
  ctx.require(
    {
      action: 'sendToModel',
      principal: ctx.principal,
      resource: { integration: integration.id, model },
      context: { workflow: ctx.ref, classification: ctx.classification, redacted: redaction !== undefined, test: ctx.test },
    },
    node,
  );
  const embed = async (input: readonly string[]) => {
    const vectors: (readonly number[])[] = [];
    for (let at = 0; at < input.length; at += EMBED_BATCH) {
      ctx.checkCancelled();
      const result = await ctx.services.models.embed({ integration: integration.id, model, input: input.slice(at, at + EMBED_BATCH), ...(ctx.signal ? { signal: ctx.signal } : {}) });
      ctx.event('model_called', { node });
      const usage = result.usage ? { promptTokens: result.usage.promptTokens, completionTokens: 0, totalTokens: result.usage.totalTokens } : null;
      ctx.countTokens(node, integration.id, model, usage, ctx.limits.maxTokensPerRun);
      vectors.push(...result.embeddings);
    }
    return vectors;
  };

  let cache = ctx.services.embeddings.get(collection);
  if (!cache) ctx.services.embeddings.set(collection, (cache = new Map()));
  const key = `${integration.id}\u0000${model}\u0000${redaction?.key ?? 'raw'}`;
  let indexed = cache.get(key);
  if (!indexed) {
    const texts = collection.documents.map((d) => (redaction ? redaction.redactForIndex(d.text) : d.text));
    indexed = embed(texts).then((vectors): EmbeddedTexts => ({ texts, vectors }));
    cache.set(key, indexed);
    // A failed embedding is not cached: the next run tries again.
    indexed.catch(() => cache!.delete(key));
  }
  const { texts, vectors: cached } = await indexed;
  // Values this run's vault holds that the detector missed in a document: those documents are
  // embedded again for this run, with the values replaced, and that embedding is not cached.
  const vectors = [...cached];
  if (redaction) {
    const stale = texts.map((text, i) => [i, redaction.redactVaultValues(text)] as const).filter(([i, text]) => text !== texts[i]);
    if (stale.length > 0) {
      const fresh = await embed(stale.map(([, text]) => text));
      stale.forEach(([i], k) => (vectors[i] = fresh[k]!));
    }
  }
  const queryText = redaction ? redaction.typedOnly(redaction.redactText(query, {})) : query;
  const [queryVector] = await embed([queryText]);
  const hits: { index: number; score: number }[] = [];
  vectors.forEach((vector, index) => {
    if (accept(index)) hits.push({ index, score: dot(queryVector!, vector) });
  });
  hits.sort((a, b) => b.score - a.score || a.index - b.index);
  return hits;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    sum += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : sum / Math.sqrt(na * nb);
}

/** Reciprocal rank fusion: each list contributes 1 / (k + rank). */
function fuse(lists: readonly (readonly { index: number }[])[]): { index: number; score: number }[] {
  const scores = new Map<number, number>();
  for (const list of lists) list.forEach((hit, rank) => scores.set(hit.index, (scores.get(hit.index) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...scores].map(([index, score]) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
}

function matchesFilters(doc: CollectionDocument, filters: RetrieveConfig['filters']): boolean {
  if (!filters) return true;
  return Object.entries(filters).every(([key, wanted]) => {
    const value = doc.metadata?.[key];
    if (value === undefined) return false;
    return Array.isArray(wanted) ? wanted.includes(String(value)) : value === wanted;
  });
}
