/**
 * Writes `enclave/redaction/compromise-lists.json` from the installed compromise's lexicon:
 * `node bin/run-ts.js scripts/build-compromise-lists.ts`. Run it after upgrading compromise
 * (enclave/redaction/compromise-lists.test.ts fails until then).
 */
import { writeFileSync } from 'node:fs';
import nlp from 'compromise';
import { deriveCompromiseLists } from '../enclave/redaction/compromise-lists.ts';

const compromise = nlp as unknown as { version: string; model(): { one: { lexicon: Record<string, string | string[]> } } };
const lexicon = compromise.model().one.lexicon;
const lists = deriveCompromiseLists(lexicon);
const file = new URL('../enclave/redaction/compromise-lists.json', import.meta.url);
writeFileSync(file, `${JSON.stringify({ source: `compromise ${compromise.version} lexicon (MIT)`, ...lists })}\n`);
process.stdout.write(`wrote ${Object.values(lists.tags).reduce((n, l) => n + l.length, 0)} tagged and ${lists.common.length} common words\n`);
