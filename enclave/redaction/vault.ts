/**
 * The vault: placeholder ⇄ original value for one run. It holds PII, so it never prints itself:
 * `JSON.stringify`, `console.log` and string conversion show only its size. `exportVault` is the
 * one deliberate way out, for sealing; `importVault` takes such an export back after unsealing.
 */
import { InvalidVaultError } from './errors.ts';
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { LABEL_PATTERN } from './custom-detectors.ts';

export interface VaultEntry {
  readonly placeholder: string;
  readonly label: string;
  readonly value: string;
}

/** What `exportVault` returns: plain data, to be sealed, never logged. */
export interface VaultExport {
  readonly v: 1;
  readonly entries: readonly VaultEntry[];
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
// Module-private keys: the only ways to read every value out, or to rebuild a vault, are
// exportVault and importVault below.
const ENTRIES = Symbol('vault.entries');
const FROM_ENTRIES = Symbol('vault.fromEntries');

export class Vault {
  readonly #byPlaceholder = new Map<string, VaultEntry>();
  readonly #byValue = new Map<string, string>();
  readonly #counters = new Map<string, number>();

  /** Number of distinct values held. */
  get size(): number {
    return this.#byPlaceholder.size;
  }

  /** The placeholder for `value` of type `label`: the same one every time within this vault. */
  placeholderFor(label: string, value: string): string {
    const key = `${label}\u0000${value}`;
    const existing = this.#byValue.get(key);
    if (existing) return existing;
    let n = (this.#counters.get(label) ?? 0) + 1;
    while (this.#byPlaceholder.has(`<${label}_${n}>`)) n += 1;
    this.#counters.set(label, n);
    const placeholder = `<${label}_${n}>`;
    this.#add({ placeholder, label, value });
    return placeholder;
  }

  /** The entry behind a canonical placeholder (`<PERSON_1>`). */
  lookup(placeholder: string): VaultEntry | undefined {
    return this.#byPlaceholder.get(placeholder);
  }

  /** Labels that have at least one entry. */
  labels(): string[] {
    return [...new Set([...this.#byPlaceholder.values()].map((e) => e.label))];
  }

  #add(entry: VaultEntry): void {
    this.#byPlaceholder.set(entry.placeholder, entry);
    this.#byValue.set(`${entry.label}\u0000${entry.value}`, entry.placeholder);
  }

  static [FROM_ENTRIES](entries: readonly VaultEntry[]): Vault {
    const vault = new Vault();
    for (const e of entries) {
      vault.#add(e);
      const n = Number(/_(\d+)>$/.exec(e.placeholder)![1]);
      if (n > (vault.#counters.get(e.label) ?? 0)) vault.#counters.set(e.label, n);
    }
    return vault;
  }

  [ENTRIES](): VaultEntry[] {
    return [...this.#byPlaceholder.values()];
  }

  toJSON(): { vault: string; size: number } {
    return { vault: '[redacted]', size: this.size };
  }

  toString(): string {
    return `[Vault: ${this.size} entries]`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

export function createVault(): Vault {
  return new Vault();
}

/** Every entry, as plain data for sealing. Never log the result. */
export function exportVault(vault: Vault): VaultExport {
  return { v: 1, entries: vault[ENTRIES]().map((e) => ({ ...e })) };
}

/** A vault from an export (after unsealing); the shape is checked strictly. */
export function importVault(data: unknown): Vault {
  const issues: ValidationIssue[] = [];
  if (typeof data !== 'object' || data === null || (data as { v?: unknown }).v !== 1 || !Array.isArray((data as { entries?: unknown }).entries)) {
    throw new InvalidVaultError([{ path: '', message: 'must be {v: 1, entries: [...]}' }]);
  }
  const entries = (data as { entries: unknown[] }).entries;
  const seen = new Set<string>();
  const valid: VaultEntry[] = [];
  entries.forEach((e, i) => {
    const entry = e as Partial<VaultEntry> | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.label !== 'string' || typeof entry.value !== 'string' || typeof entry.placeholder !== 'string') {
      issues.push({ path: `entries[${i}]`, message: 'must have string placeholder, label and value' });
      return;
    }
    if (!LABEL_PATTERN.test(entry.label)) issues.push({ path: `entries[${i}].label`, message: 'must be an upper-case identifier' });
    else if (!new RegExp(`^<${entry.label}_[1-9]\\d{0,8}>$`).test(entry.placeholder)) issues.push({ path: `entries[${i}].placeholder`, message: 'must be <LABEL_n> for its label' });
    else if (seen.has(entry.placeholder)) issues.push({ path: `entries[${i}].placeholder`, message: 'is duplicated' });
    else {
      seen.add(entry.placeholder);
      valid.push({ placeholder: entry.placeholder, label: entry.label, value: entry.value });
    }
  });
  if (issues.length > 0) throw new InvalidVaultError(issues);
  return Vault[FROM_ENTRIES](valid);
}
