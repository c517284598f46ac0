/**
 * PLACEHOLDER demo documents for the sealed demo collection of `cloister up`, until the synthetic
 * insurance-claims generator (`scripts/demo-data/`, branch `engine`) lands on main; then
 * `demoCollectionDocuments` in `start-stack.ts` switches to it and this file goes.
 *
 * Invented claims, deterministic (the same every run), describing no real person: names from a
 * small invented list, 555-01xx phone numbers (reserved for fiction), example.com addresses.
 */

export interface PlaceholderDocument {
  /** Name inside the collection, e.g. `claims/CLM-100007.txt`. */
  readonly name: string;
  readonly text: string;
}

const claimants = ['Marisol Whitcombe', 'Thaddeus Ashworth', 'Imogen Pemberton', 'Desmond Haverford', 'Rosalind Thornbury', 'Leopold Kingsley'];
const incidents = [
  'A pipe burst in the upstairs bathroom and water leaked through the kitchen ceiling overnight.',
  'The insured vehicle was struck from behind while stopped at a traffic light.',
  'A hailstorm dented the roof panels and cracked two skylights of the detached garage.',
  'Grease on the stove caught fire and smoke damaged the kitchen cabinets.',
  'An electric bicycle was stolen from the locked storage room of the building.',
  'A storm uprooted an oak tree that fell onto the fence and the back porch.',
];

export function placeholderDemoDocuments(count = 12): PlaceholderDocument[] {
  return Array.from({ length: count }, (_, i) => {
    const claimant = claimants[i % claimants.length]!;
    const claim = `CLM-${100_001 + i * 7}`;
    const [given, family] = claimant.toLowerCase().split(' ');
    const text = [
      `Claim ${claim} under policy POL-${String(4_200_000 + i * 13)}: reported by ${claimant} (phone (503) 555-01${String(10 + i).padStart(2, '0')}, email ${given}.${family}@example.com).`,
      incidents[i % incidents.length]!,
      `The estimated loss is ${1_200 + i * 731} dollars.`,
    ].join('\n');
    return { name: `claims/${claim}.txt`, text };
  });
}
