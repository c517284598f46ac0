/**
 * `restore`: puts vault values back in place of placeholders, for the entity types the policy
 * allows. It recognises placeholders a model reformatted — other brackets or none, other case,
 * spaces or hyphens for underscores (`[person 1]`, `< PERSON_1 >`, `Person-1`) — reports the
 * ones it could not resolve and counts what it withheld.
 */
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { InvalidRedactionOptionsError } from './errors.ts';
import { BUILTIN_LABELS } from './types.ts';
import { Vault } from './vault.ts';

export interface RestoreOptions {
  /** Entity types whose values may come back; others stay as placeholders. */
  readonly allowedTypes: readonly string[];
  /** What to do with a bracketed placeholder the vault does not know: keep it (default) or remove it. */
  readonly unknownPlaceholders?: 'keep' | 'remove';
}

export interface RestoreResult {
  readonly text: string;
  readonly restored: Readonly<Record<string, number>>;
  readonly withheld: Readonly<Record<string, number>>;
  /** Canonical forms (`<PERSON_7>`) of placeholders the vault does not know. */
  readonly unresolved: readonly string[];
}

const OPEN = '(?:\\{\\{|\\[\\[|<<|[<\\[{(«‹])';
const CLOSE = '(?:\\}\\}|\\]\\]|>>|[>\\]})»›])';

function labelPattern(label: string): string {
  return label.split('_').map((part) => part.replace(/[^A-Z0-9]/g, '')).join('[ _-]?');
}

export function restore(text: string, vault: Vault, options: RestoreOptions): RestoreResult {
  const issues: ValidationIssue[] = [];
  if (!(vault instanceof Vault)) issues.push({ path: 'vault', message: 'must be a vault' });
  if (!Array.isArray(options.allowedTypes)) issues.push({ path: 'allowedTypes', message: 'must be a list of entity types' });
  const unknown = options.unknownPlaceholders ?? 'keep';
  if (unknown !== 'keep' && unknown !== 'remove') issues.push({ path: 'unknownPlaceholders', message: "must be 'keep' or 'remove'" });
  if (issues.length > 0) throw new InvalidRedactionOptionsError(issues);

  const allowed = new Set(options.allowedTypes);
  const labels = [...new Set([...vault.labels(), ...BUILTIN_LABELS])].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(${OPEN}[ \\t]*)?(?<![\\p{L}\\p{N}])(${labels.map(labelPattern).join('|')})[ \\t]*[_#\\-]?[ \\t]*(\\d{1,9})(?![\\p{L}\\p{N}])([ \\t]*${CLOSE})?`, 'giu');

  const restored: Record<string, number> = {};
  const withheld: Record<string, number> = {};
  const unresolved: string[] = [];
  const out = text.replace(pattern, (match: string, open: string | undefined, rawLabel: string, n: string, close: string | undefined) => {
    const label = labels.find((l) => new RegExp(`^${labelPattern(l)}$`, 'i').test(rawLabel)) ?? rawLabel.toUpperCase();
    const canonical = `<${label}_${Number(n)}>`;
    const entry = vault.lookup(canonical);
    const bracketed = Boolean(open) || Boolean(close);
    if (!entry) {
      // Bare words like "Person 2" are only placeholders when the vault knows them.
      if (!bracketed && rawLabel !== rawLabel.toUpperCase()) return match;
      if (!bracketed && !/[_]/.test(match)) return match;
      unresolved.push(canonical);
      return unknown === 'remove' ? '' : match;
    }
    if (!allowed.has(entry.label)) {
      withheld[entry.label] = (withheld[entry.label] ?? 0) + 1;
      return match;
    }
    restored[entry.label] = (restored[entry.label] ?? 0) + 1;
    // The exact placeholder inside a wider match ("(<PERSON_1>)") keeps the text around it.
    const exact = match.indexOf(canonical);
    if (exact >= 0) return match.slice(0, exact) + entry.value + match.slice(exact + canonical.length);
    return entry.value;
  });
  return { text: out, restored, withheld, unresolved: [...new Set(unresolved)] };
}
