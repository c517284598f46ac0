import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidVaultError } from './errors.ts';
import { createVault, exportVault, importVault } from './vault.ts';

describe('vault', () => {
  it('gives the same value the same placeholder and numbers each type on its own', () => {
    const vault = createVault();
    expect(vault.placeholderFor('PERSON', 'Ana Lima')).toBe('<PERSON_1>');
    expect(vault.placeholderFor('EMAIL', 'ana@example.com')).toBe('<EMAIL_1>');
    expect(vault.placeholderFor('PERSON', 'Bo Chen')).toBe('<PERSON_2>');
    expect(vault.placeholderFor('PERSON', 'Ana Lima')).toBe('<PERSON_1>');
    expect(vault.size).toBe(3);
  });

  it('does not leak values through JSON, inspection or string conversion', () => {
    const vault = createVault();
    vault.placeholderFor('PERSON', 'Ana Lima');
    for (const shown of [JSON.stringify(vault), JSON.stringify({ vault }), inspect(vault), inspect({ nested: { vault } }, { depth: 5 }), String(vault), `${vault}`]) {
      expect(shown).not.toContain('Ana Lima');
    }
  });

  it('has no public method that lists every value besides exportVault', () => {
    const vault = createVault();
    vault.placeholderFor('PERSON', 'Ana Lima');
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(vault));
    expect(methods.sort()).toEqual(['constructor', 'labels', 'lookup', 'placeholderFor', 'size', 'toJSON', 'toString'].sort());
    expect(Object.keys(vault)).toEqual([]);
  });

  it('round-trips through its explicit export and keeps numbering after import', () => {
    const vault = createVault();
    vault.placeholderFor('PERSON', 'Ana Lima');
    vault.placeholderFor('PERSON', 'Bo Chen');
    const copy = importVault(JSON.parse(JSON.stringify(exportVault(vault))));
    expect(copy.lookup('<PERSON_2>')?.value).toBe('Bo Chen');
    expect(copy.placeholderFor('PERSON', 'Ana Lima')).toBe('<PERSON_1>');
    expect(copy.placeholderFor('PERSON', 'Cy Diaz')).toBe('<PERSON_3>');
  });

  it('rejects an export that is not {v: 1, entries}', () => {
    expect(() => importVault({ v: 2, entries: [] })).toThrow(InvalidVaultError);
    expect(() => importVault(null)).toThrow(InvalidVaultError);
  });
  it('rejects an entry whose placeholder does not match its label', () => {
    expect(() => importVault({ v: 1, entries: [{ placeholder: '<EMAIL_1>', label: 'PERSON', value: 'x' }] })).toThrow(InvalidVaultError);
  });
  it('rejects duplicated placeholders and does not echo values in the error', () => {
    try {
      importVault({ v: 1, entries: [{ placeholder: '<PERSON_1>', label: 'PERSON', value: 'Ana Lima' }, { placeholder: '<PERSON_1>', label: 'PERSON', value: 'Bo Chen' }] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidVaultError);
      expect(JSON.stringify((error as InvalidVaultError).issues) + (error as Error).message).not.toMatch(/Ana|Bo Chen/);
    }
  });
});
