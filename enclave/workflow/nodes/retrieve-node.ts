/**
 * `retrieve`: the retrieve gate for the collection, then lexical BM25 over its documents (the
 * index built once per opened collection), filters, top-k. Documents classified above what the
 * bundle says of their collection are withheld; the run's classification rises to the data read.
 * Documents go into the node output in the clear (it is checkpointed sealed); model nodes
 * redact them when they render them into a prompt.
 */
import type { RetrieveConfig } from '../../../protocol/workflows/workflow-document.ts';
import { createBm25Index } from '../bm25-index.ts';
import { RunCollectionUnavailableError } from '../errors.ts';
import { renderTemplate, type RetrievedDocument } from '../render-template.ts';
import type { RunContext } from '../run-context.ts';
import type { CollectionDocument } from '../types.ts';

export interface RetrieveOutput {
  readonly documents: readonly RetrievedDocument[];
}

export async function runRetrieveNode(ctx: RunContext, id: string, config: RetrieveConfig): Promise<RetrieveOutput> {
  const template = config.queryTemplate ?? '{{input.question}}';
  const query = renderTemplate(template, { input: ctx.input, outputs: ctx.outputs }, (text) => text);
  return { documents: await searchCollection(ctx, id, config, query) };
}

/** The retrieve gate and a search; shared by retrieve nodes and agents' retrieve tools. */
export async function searchCollection(ctx: RunContext, node: string, config: RetrieveConfig, query: string): Promise<RetrievedDocument[]> {
  ctx.require({ action: 'retrieve', principal: ctx.principal, resource: { collection: config.collection }, context: { workflow: ctx.ref, test: ctx.test } }, node);
  const declared = ctx.services.bundle.manifest.collections.find((c) => c.id === config.collection);
  if (!declared) throw new RunCollectionUnavailableError({ collection: config.collection });
  const collection = await ctx.services.collections.open(config.collection);
  if (collection.id !== config.collection) throw new RunCollectionUnavailableError({ collection: config.collection });
  let index = ctx.services.indexes.get(collection);
  if (!index) {
    index = createBm25Index(collection.documents.map((d) => d.text));
    ctx.services.indexes.set(collection, index);
  }
  const levels = ctx.services.bundle.manifest.classifications;
  const ceiling = levels.indexOf(declared.classification);
  const rank = (level: string | undefined) => (level === undefined ? -1 : levels.indexOf(level) === -1 ? levels.length : levels.indexOf(level));
  const accept = (i: number) => {
    const doc = collection.documents[i]!;
    return rank(doc.classification) <= ceiling && matchesFilters(doc, config.filters);
  };
  // Placeholders in the query stand for values the run holds; the search runs on the real text.
  const searchText = ctx.redaction ? ctx.redaction.reveal(query) : query;
  const topK = Math.min(config.topK, ctx.limits.maxTopK);
  const hits = index.search(searchText, topK, accept);
  // The data read is at least as classified as the bundle and the collection itself say.
  ctx.raiseClassification(declared.classification);
  ctx.raiseClassification(collection.classification);
  const documents = hits.map(({ index: i, score }) => {
    const doc = collection.documents[i]!;
    if (!ctx.documents.some((d) => d.collection === collection.id && d.id === doc.id)) {
      ctx.documents.push({ collection: collection.id, id: doc.id, sha256: doc.sha256 });
    }
    return { id: doc.id, collection: collection.id, score: Math.round(score * 1e6) / 1e6, text: doc.text };
  });
  return documents;
}

function matchesFilters(doc: CollectionDocument, filters: RetrieveConfig['filters']): boolean {
  if (!filters) return true;
  return Object.entries(filters).every(([key, wanted]) => {
    const value = doc.metadata?.[key];
    if (value === undefined) return false;
    return Array.isArray(wanted) ? wanted.includes(String(value)) : value === wanted;
  });
}
