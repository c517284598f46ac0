/**
 * General-purpose word lists for names and places, built once when the module loads from
 * packages made for the purpose (no file is read by this code at run time):
 * - `humannames`: ~200k given names and surnames from censuses (broad, noisy: "The", "Server");
 * - `cities-list`: ~79k city names of the world (broad, noisy: "Street", "Green");
 * - compromise's lexicon: common first names, surnames, major cities, countries, regions,
 *   well-known organisations, demonyms, and the ordinary English words that rule out the noise
 *   (as lists derived from it once, compromise-lists.json);
 * - `Intl.DisplayNames`: every ISO 3166 region name in English;
 * plus the short closed lists below (honorifics, street and unit words, company suffixes, US
 * states), written from general knowledge. None of it comes from any benchmark.
 */
import { createRequire } from 'node:module';
import type { CompromiseLists, CompromiseTag } from './compromise-lists.ts';
import { fold } from './text-context.ts';
import { createWordFlagsTable } from './word-flags-table.ts';

// The word lists are JSON, loaded with Node's own loader: it reads them in ~50 ms where a
// TypeScript loader's JSON-to-module transform is several times slower. compromise's lexicon
// is read from the lists derived from it (compromise-lists.ts): loading compromise itself
// would cost ~0.6 s of start-up to build a lexicon of which these lists are all we use.
const requireJson = createRequire(import.meta.url);
const humanNames = requireJson('humannames') as Record<string, number>;
const citiesList = requireJson('cities-list') as Record<string, number>;
const compromise = requireJson('./compromise-lists.json') as CompromiseLists;

const words = (s: string): string[] => s.trim().split(/\s+/);
const foldedSet = (list: Iterable<string>): Set<string> => new Set(Array.from(list, (w) => fold(w)));
const tagged = (...tags: CompromiseTag[]): Set<string> => new Set(tags.flatMap((t) => compromise.tags[t]).map(fold));
const compromiseCommon = compromise.common;

/** Given names common enough that compromise knows them. */
export const FIRST_NAMES: ReadonlySet<string> = tagged('MaleName', 'FemaleName', 'FirstName');
/** Surnames compromise knows. */
export const LAST_NAMES: ReadonlySet<string> = tagged('LastName');

/** Capital and major cities (compromise) — confident on their own. */
export const MAJOR_CITIES: ReadonlySet<string> = tagged('City');

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const isoCountries: string[] = [];
for (let a = 65; a <= 90; a++) {
  for (let b = 65; b <= 90; b++) {
    const code = String.fromCharCode(a, b);
    try {
      const name = regionNames.of(code);
      if (name && name !== code) isoCountries.push(name, name.replace(/\s*\(.*\)$/, '').replace(/^St\. /, 'Saint '));
    } catch {
      // Not a region code.
    }
  }
}
/** Country names (ISO 3166 in English, compromise's forms, common short forms). */
export const COUNTRIES: ReadonlySet<string> = new Set([
  ...foldedSet(isoCountries),
  ...tagged('Country'),
  ...foldedSet(['USA', 'U.S.A.', 'U.S.', 'UK', 'U.K.', 'UAE', 'America', 'Britain', 'Great Britain', 'England', 'Scotland', 'Wales', 'Holland', 'Russia', 'Czechia', 'Burma', 'Ivory Coast', 'South Korea', 'North Korea', 'Vatican', 'Palestine', 'Taiwan', 'Macedonia', 'Swaziland', 'Persia']),
]);

export const US_STATES: ReadonlyMap<string, string> = new Map(
  (
    'AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|DE Delaware|FL Florida|GA Georgia|HI Hawaii|' +
    'ID Idaho|IL Illinois|IN Indiana|IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|MI Michigan|' +
    'MN Minnesota|MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico|NY New York|' +
    'NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania|RI Rhode Island|SC South Carolina|SD South Dakota|' +
    'TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia|WA Washington|WV West Virginia|WI Wisconsin|WY Wyoming|DC District of Columbia|' +
    'PR Puerto Rico|GU Guam|VI Virgin Islands|AS American Samoa|MP Northern Mariana Islands|AA Armed Forces Americas|AE Armed Forces Europe|AP Armed Forces Pacific'
  )
    .split('|')
    .map((pair) => [pair.slice(0, 2), pair.slice(3)] as [string, string]),
);
const WORLD_REGIONS = 'Europe|Asia|Africa|North America|South America|Latin America|Central America|Antarctica|Oceania|Australasia|Eurasia|Middle East|Near East|Far East|Scandinavia|Balkans|Caribbean|Mediterranean|Baltics|Benelux|Siberia|Patagonia|Sahara|Southeast Asia|East Asia|South Asia|Central Asia|Western Europe|Eastern Europe|Northern Europe|Southern Europe|Central Europe|West Africa|East Africa|North Africa|Southern Africa|Sub-Saharan Africa|New England|Midwest|Pacific Northwest|Silicon Valley|Bay Area';
/** States, provinces and regions (compromise), US state names, continents and world regions. */
export const REGIONS: ReadonlySet<string> = new Set([...tagged('Region'), ...foldedSet(US_STATES.values()), ...foldedSet(WORLD_REGIONS.split('|'))]);
/** Well-known organisations (compromise). */
export const KNOWN_ORGANIZATIONS: ReadonlySet<string> = tagged('Organization', 'SportsTeam');
export const DEMONYMS: ReadonlySet<string> = tagged('Demonym');

export const HONORIFICS: ReadonlySet<string> = new Set(
  words('mr mrs ms miss mx dr prof professor sir dame lady lord madam madame mme mlle monsieur herr frau fräulein señor senor señora senora sra srta don doña rev reverend fr father sister brother pastor rabbi imam sheikh judge justice capt captain col colonel gen general lt lieutenant sgt sergeant officer agent detective det gov governor sen senator rep president mayor hon attorney atty nurse coach uncle aunt auntie grandma grandpa'),
);

/** Words that end (or are) a company name. */
export const ORG_SUFFIXES: ReadonlySet<string> = new Set(
  words(
    'inc incorporated corp corporation co company companies ltd limited llc llp lp plc gmbh ag kg ohg ug sa sas sarl sàrl spa srl bv nv oy oyj ab asa as aps sl sae kk pty pte bhd ' +
      'group holdings holding partners associates bank banks bancorp trust university universität université universidad college institute institut school academy foundation fund ' +
      'association society union federation council ministry department agency authority commission committee hospital clinic laboratories laboratory labs ' +
      'industries technologies technology tech systems solutions services consulting software networks communications telecom media studios productions press publishing ' +
      'pharmaceuticals pharma therapeutics biosciences motors airlines airways railways logistics energy petroleum insurance capital investments ventures enterprises ' +
      'international global worldwide organization organisation club church orchestra band records entertainment restaurant cafe hotel hotels',
  ),
);

/** Street-type words (US postal suffixes and their common equivalents elsewhere). */
export const STREET_TYPES: ReadonlySet<string> = new Set(
  words(
    // USPS Publication 28 suffixes and abbreviations.
    'alley anex arcade bayou beach bend bluff bluffs bottom branch bridge brook brooks burg burgs bypass camp canyon cape causeway ' +
      'centers circles cliff cliffs common commons corner corners course courts cove coves creek crest crossroad curve dale dam divide drives ' +
      'extension extensions fall falls ferry field fields flat flats ford fords forest forge forges fork forks fort garden gateway glens greens groves ' +
      'harbors haven hollow inlet island islands isle junctions key keys knoll knolls lake lakes land light lights loaf lock locks lodge mall manor manors ' +
      'mill mills mission motorway mount mountain mountains neck orchard oval overpass parks parkways pass passage pine pines plain plains points port ports ' +
      'prairie radial ramp ranch rapid rapids rest ridges river roads shoal shoals shore shores skyway spring springs spur spurs squares stravenue stream streets ' +
      'summit throughway trace track trafficway trailer tunnel turnpike underpass valley valleys viaduct views village villages ville walks wall ways well wells ' +
      'ctr expy mnr mtn crk cv vly vw spg sta frk hvn ' +
      'street st str avenue ave av road rd boulevard blvd bvd lane ln drive dr court ct place pl square sq terrace ter terr way parkway pkwy highway hwy freeway fwy expressway ' +
      'circle cir crescent cres close cl grove gr gardens gdns row plaza loop run pike route rte trail trl alley aly crossing xing path walk mews wharf quay ' +
      'ridge hill hills heights hts point pt park view vista estate estates green glen meadow meadows harbor harbour landing junction jct station center centre ' +
      'strasse straße gasse weg platz allee ring damm ufer chaussee ' +
      'rue chemin impasse allée quai cours ' +
      'via viale piazza corso vicolo largo ' +
      'calle avenida carrera paseo camino plaza ronda rua travessa praça estrada ' +
      'straat laan gracht plein steeg kade dijk ' +
      'gade vej gatan vägen gata veien vei ' +
      'katu tie kuja polku ' +
      'ulica ul utca út ucca ulice náměstí trg cesta ' +
      'sokak sokağı cadde caddesi bulvar ' +
      'odos',
  ),
);
/** Endings of one-word street names in languages that compound them (Koskikatu, Hauptstraße). */
export const STREET_SUFFIXES: readonly string[] = words(
  'strasse straße str. gasse weg platz allee ring damm ufer straat laan gracht plein steeg kade dijk gade vej gatan vägen gata veien vegen ' +
    'katu tie kuja polku utca ulica ulice',
);
export const UNIT_WORDS: ReadonlySet<string> = new Set(words('apt apartment suite ste unit flat floor fl room rm building bldg box dept department lot no #'));
export const DIRECTIONS: ReadonlySet<string> = new Set(words('n s e w ne nw se sw north south east west northeast northwest southeast southwest'));
/** Lower-case words that may sit inside a person's or place's name. */
export const NAME_PARTICLES: ReadonlySet<string> = new Set(words('van von der den de del della di da dos das du le la los las bin binti ibn al el ter ten zu y e st'));
export const PLACE_PREFIXES: ReadonlySet<string> = new Set(words('north south east west northern southern eastern western central upper lower greater new old port fort mount mt saint st san santa são sao la le los las el'));

const EXTRA_COMMON = words(
  'the a an this that these those my your our their his her its it we you they he she i me us them who what when where why how which there here ' +
    "i'm i'll i've i'd im ive it's that's there's let's don't can't won't isn't " +
    'fax tel cell desk bot chatbot assistant agent operator support helpdesk moderator host guest speaker caller interviewer interviewee narrator q a ' +
    'hi hello hey dear thanks thank please regards best sincerely cheers yes no ok okay sure sorry welcome ' +
    'mr mrs ms dr re fwd fw subject note notes tip important urgent warning error errors info information debug trace fatal critical notice alert ' +
    'exception failed failure success successful started starting stopped stopping running completed pending queued timeout retry retrying ' +
    'server servers service services client clients request response user users admin administrator root system systems host hosts node nodes ' +
    'null none true false undefined nan default config configuration version release build update updates upgrade install test tests testing ' +
    'file files folder directory path data database table row column record records field value values key keys token tokens id ids ' +
    'order orders account accounts customer customers invoice payment payments total amount price balance number numbers code codes status ' +
    'name names address phone email contact date time day week month year today tomorrow yesterday morning afternoon evening night ' +
    'street road avenue city state country county town village region district province zip postal ' +
    'company team group department office branch bank store shop market school university college hospital church court ' +
    'january february march april may june july august september october november december ' +
    'monday tuesday wednesday thursday friday saturday sunday ' +
    'new old good great big small first last next previous other another all any each every some many more most ' +
    'chapter section page figure table appendix step part item list summary overview introduction conclusion question answer ' +
    'manager director president chairman officer engineer developer doctor nurse teacher student professor patient member staff ' +
    'love hope faith joy grace will may mark bill rose ruby pearl amber crystal dawn summer autumn winter spring sunny happy ' +
    'king queen prince princess god lord christ jesus allah buddha ' +
    'internet web online email website app application software hardware computer phone mobile laptop network wifi ' +
    'north south east west central upper lower main high park lake river mountain beach island valley forest hill hills green field fields ' +
    'english french german spanish italian chinese japanese russian arabic hindi',
);
/** Ordinary words: never a name or a place on their own, however a gazetteer lists them. */
export const COMMON_WORDS: ReadonlySet<string> = new Set([...compromiseCommon, ...EXTRA_COMMON]);

/**
 * One look-up for "is this a place, and how sure": country 0.9, state or region 0.85, major
 * city 0.8, any other town 0.45 (below the default threshold: it needs a place word).
 */
export const PLACE_SCORES: ReadonlyMap<string, number> = (() => {
  const scores = new Map<string, number>();
  // ~79k towns and cities: a town no bigger list knows is a place only with a place word near
  // it ("in", "lives in").
  for (const c in citiesList) scores.set(fold(c), 0.45);
  for (const c of MAJOR_CITIES) scores.set(c, 0.8);
  for (const r of REGIONS) scores.set(r, 0.85);
  for (const c of COUNTRIES) scores.set(c, 0.9);
  return scores;
})();

/** Whether a gazetteer knows the (folded) words as a town, city, region or country. */
export function isKnownPlace(folded: string): boolean {
  return (WORD_FLAGS.get(folded) & PLACE) !== 0;
}

// Bits of WORD_FLAGS: what the word lists say about one folded word.
export const FIRST_NAME = 1;
export const LAST_NAME = 2;
/** Any of ~200k census names (given or family): broad, check COMMON too. */
export const CENSUS_NAME = 4;
export const COMMON = 8;
export const DEMONYM = 16;
/** A town, city, region or country (a key of PLACE_SCORES). */
export const PLACE = 32;
/** The first word of a multi-word key of PLACE_SCORES ("new" of "new york"). */
export const PLACE_HEAD = 64;

/**
 * Every single-word list in one table, so a capitalised word costs one probe instead of one
 * per list (the large lists are cache misses). Built once at load, in place of a separate
 * 200k-entry set of census names.
 */
const WORD_FLAGS = (() => {
  const flags = createWordFlagsTable(300_000);
  // Lower-cased (not folded), as the census list has always been compared.
  for (const name in humanNames) flags.add(name.toLowerCase(), CENSUS_NAME);
  for (const w of FIRST_NAMES) flags.add(w, FIRST_NAME);
  for (const w of LAST_NAMES) flags.add(w, LAST_NAME);
  for (const w of COMMON_WORDS) flags.add(w, COMMON);
  for (const w of DEMONYMS) flags.add(w, DEMONYM);
  for (const key of PLACE_SCORES.keys()) {
    flags.add(key, PLACE);
    const space = key.indexOf(' ');
    if (space > 0) flags.add(key.slice(0, space), PLACE_HEAD);
  }
  return flags;
})();

/** The WORD_FLAGS bits of a folded word (0 when no list knows it). */
export function wordFlags(folded: string): number {
  return WORD_FLAGS.get(folded);
}

/** Any of ~200k census names (given or family). Broad: check COMMON_WORDS too. */
export function isKnownName(folded: string): boolean {
  return folded.length >= 2 && (WORD_FLAGS.get(folded) & (FIRST_NAME | LAST_NAME | CENSUS_NAME)) !== 0;
}
