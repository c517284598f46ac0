/**
 * Deterministic synthetic insurance claims for the demo collection and the workflow tests. Every
 * value (names, phone numbers, SSNs, addresses, policy numbers) is drawn from small invented
 * lists with a seeded generator: the same seed always gives the same claims, and none of them
 * describes a real person. Phone numbers use the 555-01xx range reserved for fiction; SSNs meet
 * the SSA's structural rules (so detectors treat them as SSNs) but are generated, not issued.
 */

export interface SyntheticClaim {
  /** Document name inside the collection, e.g. `claims/CLM-104233.txt`. */
  readonly name: string;
  readonly claimNumber: string;
  readonly policyNumber: string;
  readonly claimant: string;
  readonly phone: string;
  readonly ssn: string;
  readonly email: string;
  readonly address: string;
  readonly incident: string;
  /** The document as stored in the collection. */
  readonly text: string;
}

export interface SyntheticClaimsOptions {
  readonly seed: number;
  readonly count: number;
}

const givenNames = ['Marisol', 'Thaddeus', 'Imogen', 'Desmond', 'Rosalind', 'Leopold', 'Henrietta', 'Ambrose', 'Cordelia', 'Percival', 'Ottilie', 'Fitzgerald', 'Winifred', 'Barnaby', 'Philippa', 'Cornelius'];
const surnames = ['Whitcombe', 'Ashworth', 'Pemberton', 'Haverford', 'Thornbury', 'Kingsley', 'Blackwood', 'Fairbanks', 'Harrington', 'Lockwood', 'Wainwright', 'Stanhope', 'Holloway', 'Prescott', 'Remington', 'Beaumont'];
const streets = ['Birchwood Lane', 'Quarry Hill Road', 'Juniper Court', 'Lantern Street', 'Millbrook Avenue', 'Osprey Drive', 'Tanner Road', 'Heron Way'];
const cities = [
  ['Fairhaven', 'OR', '97123'],
  ['Millerton', 'NY', '12546'],
  ['Brookfield', 'WI', '53005'],
  ['Clearwater', 'KS', '67026'],
  ['Ridgefield', 'WA', '98642'],
] as const;
const incidents = [
  ['water damage', 'A pipe burst in the upstairs bathroom and water leaked through the kitchen ceiling overnight.'],
  ['rear-end collision', 'The insured vehicle was struck from behind while stopped at a traffic light on the highway exit ramp.'],
  ['hail damage', 'A hailstorm dented the roof panels and cracked two skylights of the detached garage.'],
  ['kitchen fire', 'Grease on the stove caught fire and smoke damaged the cabinets and the ceiling of the kitchen.'],
  ['stolen bicycle', 'An electric bicycle was stolen from the locked storage room of the apartment building.'],
  ['fallen tree', 'A storm uprooted an oak tree that fell onto the fence and the back porch.'],
  ['windshield crack', 'A stone thrown up by a truck cracked the windshield on the interstate.'],
  ['basement flooding', 'Heavy rain flooded the basement and ruined the furnace and the washing machine.'],
] as const;

/** mulberry32: small, fast, and the same on every platform. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticClaims(options: SyntheticClaimsOptions): SyntheticClaim[] {
  const random = generator(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
  const claims: SyntheticClaim[] = [];
  const usedNames = new Set<string>();
  for (let i = 0; i < options.count; i += 1) {
    let given = pick(givenNames);
    let family = pick(surnames);
    // Distinct claimants while the lists allow it, so a question names one claim.
    for (let tries = 0; usedNames.has(`${given} ${family}`) && tries < 20; tries += 1) {
      given = pick(givenNames);
      family = pick(surnames);
    }
    usedNames.add(`${given} ${family}`);
    const claimant = `${given} ${family}`;
    const claimNumber = `CLM-${String(100000 + Math.floor(random() * 900000))}`;
    const policyNumber = `POL-${digits(7)}`;
    const phone = `(${pick(['415', '503', '212', '608', '316'])}) 555-01${digits(2)}`;
    // Area 100–665 or 667–899, group 01–99, serial 0001–9999: valid in shape, never issued here.
    const area = (() => {
      const a = 100 + Math.floor(random() * 799);
      return a === 666 ? 667 : a;
    })();
    const ssn = `${area}-${String(1 + Math.floor(random() * 99)).padStart(2, '0')}-${String(1 + Math.floor(random() * 9999)).padStart(4, '0')}`;
    const email = `${given.toLowerCase()}.${family.toLowerCase()}@example.com`;
    const [city, state, zip] = pick(cities);
    const address = `${1 + Math.floor(random() * 980)} ${pick(streets)}, ${city}, ${state} ${zip}`;
    const [kind, description] = pick(incidents);
    const amount = 500 + Math.floor(random() * 24_500);
    const text = [
      `Claim ${claimNumber} under policy ${policyNumber}: ${kind} reported by ${claimant} (SSN ${ssn}, phone ${phone}, email ${email}).`,
      `The insured property is at ${address}.`,
      `${description}`,
      `The estimated loss for the ${kind} is ${amount} dollars and the adjuster recommended ${amount > 10_000 ? 'an on-site inspection' : 'payment without inspection'}.`,
    ].join('\n');
    claims.push({ name: `claims/${claimNumber}.txt`, claimNumber, policyNumber, claimant, phone, ssn, email, address, incident: kind, text });
  }
  return claims;
}
