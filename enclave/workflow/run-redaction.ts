/**
 * The run's redaction, fixed by its redact node: one detector, one operator, one vault. Every
 * value a downstream model node sends out goes through `redactText`, so placeholders are the same
 * everywhere in the run. Values the vault already holds are also replaced wherever they appear
 * verbatim, even where the detector would miss them without context (a name met in the question
 * is redacted in a document too).
 */
import { createDetector, exportVault, redact, type PiiSpan, type Vault } from '../redaction/index.ts';
import { BUILTIN_LABELS } from '../redaction/types.ts';
import type { RedactConfig } from '../../protocol/workflows/workflow-document.ts';

export interface RunRedaction {
  readonly node: string;
  readonly vault: Vault;
  readonly operator: RedactConfig['operator'];
  /** Redacts `text`; adds the counts to `counts`. */
  redactText(text: string, counts: Record<string, number>): string;
  /** Puts every vault value back (for searches inside the enclave, never for model input). */
  reveal(text: string): string;
  /**
   * Run-independent redaction for texts embedded once per collection: each detected value
   * becomes its bare type (`<PERSON>`).
   */
  redactForIndex(text: string): string;
  /** `redactForIndex` output with the run's vault values (missed by the detector) also replaced. */
  redactVaultValues(text: string): string;
  /** Numbered placeholders turned into bare types (`<PERSON_1>` → `<PERSON>`), to match indexed texts. */
  typedOnly(text: string): string;
  /** Names this redaction's configuration, for caches of redacted texts. */
  readonly key: string;
}

const MIN_VAULT_VALUE = 3;
const placeholderPattern = /<([A-Z][A-Z0-9_]*_\d+)>/g;

export function createRunRedaction(node: string, config: RedactConfig, vault: Vault, hashKey: Uint8Array): RunRedaction {
  const customLabels = new Set([...(config.patterns ?? []).map((p) => p.entityType), ...(config.terms ?? []).map((t) => t.entityType)]);
  const builtin = new Set<string>(BUILTIN_LABELS);
  const entities = [...new Set([...config.entityTypes.filter((t) => builtin.has(t) || customLabels.has(t)), ...customLabels])];
  const detector = createDetector({
    entities,
    ...(config.threshold === undefined ? {} : { threshold: config.threshold }),
    customPatterns: (config.patterns ?? []).map((p) => ({ label: p.entityType, pattern: p.regex })),
    termLists: (config.terms ?? []).map((t) => ({ label: t.entityType, terms: t.values })),
  });
  const covered = new Set(entities);

  function vaultSpans(text: string): PiiSpan[] {
    if (config.operator !== 'placeholder') return [];
    const spans: PiiSpan[] = [];
    for (const entry of exportVault(vault).entries) {
      if (!covered.has(entry.label) || entry.value.length < MIN_VAULT_VALUE) continue;
      for (let at = text.indexOf(entry.value); at !== -1; at = text.indexOf(entry.value, at + entry.value.length)) {
        spans.push({ start: at, end: at + entry.value.length, label: entry.label, score: 1 });
      }
    }
    return spans;
  }

  function redactText(text: string, counts: Record<string, number>): string {
    const detected = detector.detect(text);
    // Detected spans first, then longer vault matches; keep what does not overlap anything kept.
    const candidates = [...detected, ...vaultSpans(text).sort((a, b) => b.end - b.start - (a.end - a.start))];
    const kept: PiiSpan[] = [];
    for (const span of candidates) {
      if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
    }
    kept.sort((a, b) => a.start - b.start);
    const result = redact(text, kept, { operator: config.operator, vault, hashKey });
    for (const [label, count] of Object.entries(result.counts)) counts[label] = (counts[label] ?? 0) + count;
    return result.text;
  }

  function reveal(text: string): string {
    return text.replace(placeholderPattern, (match) => vault.lookup(match)?.value ?? match);
  }

  function replaceSpans(text: string, spans: readonly PiiSpan[]): string {
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += `${text.slice(at, span.start)}<${span.label}>`;
      at = span.end;
    }
    return out + text.slice(at);
  }

  function redactForIndex(text: string): string {
    return replaceSpans(text, detector.detect(text));
  }

  function redactVaultValues(text: string): string {
    const spans = vaultSpans(text).sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: PiiSpan[] = [];
    for (const span of spans) if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
    return replaceSpans(text, kept);
  }

  function typedOnly(text: string): string {
    return text.replace(placeholderPattern, (_match, inner: string) => `<${inner.replace(/_\d+$/, '')}>`);
  }

  const key = JSON.stringify(config);
  return Object.freeze({ node, vault, operator: config.operator, redactText, reveal, redactForIndex, redactVaultValues, typedOnly, key });
}
