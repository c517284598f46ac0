import { describe, expect, it } from 'vitest';
import { detectAddresses } from './detect-addresses.ts';
import { detectDates } from './detect-dates.ts';
import { detectNames } from './detect-names.ts';
import { resolveOverlaps } from './resolve-overlaps.ts';
import type { Candidate } from './types.ts';

const labelled = (text: string, found: Candidate[], threshold = 0.5) =>
  resolveOverlaps(found.filter((c) => c.score >= threshold)).map((c) => [text.slice(c.start, c.end), c.label]);

describe('DATE_TIME', () => {
  it('finds ISO timestamps, numeric dates, month-name dates and times', () => {
    const text = 'Due 2024-03-15T10:20:30Z, signed 03/15/2024, met on March 5th, 2021 and 7 July 1999 at 10:30 am.';
    const found = labelled(text, detectDates(text)).map(([v]) => v);
    for (const v of ['2024-03-15T10:20:30Z', '03/15/2024', 'March 5th, 2021', '7 July 1999', '10:30 am']) expect(found).toContain(v);
  });
  it('takes a year only when a date word introduces it', () => {
    expect(labelled('founded in 1987', detectDates('founded in 1987'))).toEqual([['1987', 'DATE_TIME']]);
    expect(labelled('room 1987 is free', detectDates('room 1987 is free'))).toEqual([]);
  });
  it('does not take the verb "may" or an invalid date for a date', () => {
    expect(labelled('You may 3 times', detectDates('You may 3 times'))).toEqual([]);
    expect(labelled('ratio 45/13/99', detectDates('ratio 45/13/99'))).toEqual([]);
  });
});

describe('ADDRESS', () => {
  it('finds a US street line with unit, city, state and ZIP over several lines', () => {
    const text = 'Ship to 1600 Pennsylvania Avenue NW\nSuite 200\nWashington, DC 20500 today';
    expect(labelled(text, detectAddresses(text))).toEqual([['1600 Pennsylvania Avenue NW\nSuite 200\nWashington, DC 20500', 'ADDRESS']]);
  });
  it('finds European street forms', () => {
    for (const [text, want] of [
      ['Wir wohnen in der Hauptstraße 5, 10115 Berlin.', 'Hauptstraße 5, 10115 Berlin'],
      ['Lettera a Via Roma 12, Milano', 'Via Roma 12, Milano'],
      ['Il habite 5 rue de la Paix, Paris', '5 rue de la Paix, Paris'],
    ] as const) {
      expect(labelled(text, detectAddresses(text)).map(([v]) => v)).toEqual([want]);
    }
  });
  it('finds a PO box and a city-state-ZIP line', () => {
    const text = 'PO Box 4410, Springfield, IL 62704';
    expect(labelled(text, detectAddresses(text)).map(([v]) => v)).toEqual(['PO Box 4410, Springfield, IL 62704']);
  });
  it('does not take counts of things for addresses', () => {
    expect(labelled('We sold 12 Green Apples and 3 boxes.', detectAddresses('We sold 12 Green Apples and 3 boxes.'))).toEqual([]);
  });
});

describe('PERSON, LOCATION, ORGANIZATION', () => {
  it('finds full names with honorifics, initials and particles (honorific excluded)', () => {
    const text = 'Yesterday Dr. Maria Gonzalez met John F. Kennedy and Ludwig van Beethoven.';
    expect(labelled(text, detectNames(text))).toEqual([
      ['Maria Gonzalez', 'PERSON'],
      ['John F. Kennedy', 'PERSON'],
      ['Ludwig van Beethoven', 'PERSON'],
    ]);
  });
  it('finds an unknown name when the context says it is a name', () => {
    const text = 'Hello, my name is Zorblatt.';
    expect(labelled(text, detectNames(text))).toEqual([['Zorblatt', 'PERSON']]);
  });
  it('finds countries, regions and cities, with prefixes', () => {
    const text = 'She moved from Southern Italy to Texas and now lives in Rotterdam.';
    expect(labelled(text, detectNames(text))).toEqual([
      ['Southern Italy', 'LOCATION'],
      ['Texas', 'LOCATION'],
      ['Rotterdam', 'LOCATION'],
    ]);
  });
  it('finds organisations by their suffix and well-known names', () => {
    const text = 'He works at Globex Corporation, banks with the Bank of Lisbon and uses Google.';
    expect(labelled(text, detectNames(text))).toEqual([
      ['Globex Corporation', 'ORGANIZATION'],
      ['Bank of Lisbon', 'ORGANIZATION'],
      ['Google', 'ORGANIZATION'],
    ]);
  });
  it('does not take log lines, log levels or all-caps codes for names or organisations', () => {
    const text = '2023-01-15 10:22:33 INFO Started Jetty on port 8080\nERROR NullPointerException in OrderService\nWARN ACME_TIMEOUT exceeded';
    expect(labelled(text, detectNames(text))).toEqual([]);
  });
  it('does not take sentence-initial ordinary words or headings for names', () => {
    const text = 'Please Review The Attached Quarterly Report. Thanks for your help!';
    expect(labelled(text, detectNames(text))).toEqual([]);
  });
  it('reads names written in all capitals only when every word is a known name', () => {
    expect(labelled('SIGNED: JOHN SMITH', detectNames('SIGNED: JOHN SMITH'))).toEqual([['JOHN SMITH', 'PERSON']]);
    expect(labelled('STATUS: PAYMENT FAILED', detectNames('STATUS: PAYMENT FAILED'))).toEqual([]);
  });
});

describe('cues that generalise', () => {
  const names = (text: string) => labelled(text, detectNames(text));

  it('reads the members of a list as people when most of them are', () => {
    expect(names('The founders were Zelinda, Michael and Ortwin.')).toEqual([
      ['Zelinda', 'PERSON'],
      ['Michael', 'PERSON'],
      ['Ortwin', 'PERSON'],
    ]);
  });
  it('does not turn a list of places into people', () => {
    expect(names('We flew to Paris, Michael and Rome.').filter(([, l]) => l === 'LOCATION').map(([v]) => v)).toEqual(['Paris', 'Rome']);
  });
  it('reads a dialogue speaker as a person but not a role label', () => {
    expect(names('Yolanthe: Where were you?\nBot: What is the account number?')).toEqual([['Yolanthe', 'PERSON']]);
  });
  it('finds lower-case names after a name phrase or as given name + surname', () => {
    expect(names('hi, my name is zorblatt and my friend is maria gonzalez')).toEqual([
      ['zorblatt', 'PERSON'],
      ['maria gonzalez', 'PERSON'],
    ]);
  });
  it('finds a lower-case name that a name phrase introduces in capitalised text', () => {
    expect(names('Hello. My name is zorblatt, thanks.')).toEqual([['zorblatt', 'PERSON']]);
  });
  it('does not read a title after an article as a name', () => {
    expect(names('Ana Lima, the Packager, said hello.')).toEqual([['Ana Lima', 'PERSON']]);
  });
  it('finds an organisation from its description or a trailing word', () => {
    expect(names('Quintessa is a German multinational.')).toEqual([['Quintessa', 'ORGANIZATION']]);
    expect(names('According to the Brightwell website, prices rose.')).toEqual([['Brightwell', 'ORGANIZATION']]);
  });
  it('reads a capitalised name ending in a street word as a street', () => {
    expect(names('Meet me at the corner of Leokadia Trail.')).toEqual([['Leokadia Trail', 'ADDRESS']]);
  });
  it('keeps a person whose surname is also a street word', () => {
    expect(names('Yesterday Tom Hill called.')).toEqual([['Tom Hill', 'PERSON']]);
  });
  it('does not read code identifiers as brands', () => {
    expect(names('Thrown by OrderService in PaymentController')).toEqual([]);
  });
});

describe('postal codes and named streets', () => {
  it('finds a postal code that a cue introduces and a numberless street after "on"', () => {
    const text = 'ZIP: 10115. The shop is on Linden Avenue today.';
    expect(labelled(text, detectAddresses(text)).map(([v]) => v)).toEqual(['10115', 'Linden Avenue']);
  });
});

describe('places after strong place phrases', () => {
  it('reads an unknown all-capitals word as a place only after a strong place phrase', () => {
    const flew = 'Mr. Ortega flew to KVARNBY on Monday.';
    expect(labelled(flew, detectNames(flew))).toContainEqual(['KVARNBY', 'LOCATION']);
    expect(labelled('Status KVARNBY on Monday.', detectNames('Status KVARNBY on Monday.'))).toEqual([]);
  });
  it('continues an address over quoted e-mail lines and a building number', () => {
    const text = '> 31 ul. Słowicza 10\n> Apt. 36\n> Wrocław';
    expect(labelled(text, detectAddresses(text)).map(([v]) => v)).toEqual(['31 ul. Słowicza 10\n> Apt. 36\n> Wrocław']);
  });
});

describe('sentence starts and log lines', () => {
  it('lets a person cue outweigh the sentence start', () => {
    const text = 'Mehrudin shouted at the guard. Yolanthe is from the north.';
    expect(labelled(text, detectNames(text)).map(([v, l]) => `${v}:${l}`)).toEqual(['Mehrudin:PERSON', 'Yolanthe:PERSON']);
  });
  it('does not read a census word in a log line as a person', () => {
    const text = '[12:00:01] worker 3 picked up Jetty task';
    expect(labelled(text, detectNames(text))).toEqual([]);
  });
});

describe('code', () => {
  it('does not read class names in stack traces or paths as names', () => {
    const text = '    at com.example.Foo.bar(Foo.java:42)\n    see src/Main/Handler.ts';
    expect(labelled(text, detectNames(text))).toEqual([]);
  });
});

describe('general prose', () => {
  it('reads continents as places and does not take a small-town homonym without a place word', () => {
    const text = 'The Federal Reserve raised rates. Markets in Europe and Asia fell.';
    expect(labelled(text, detectNames(text))).toEqual([
      ['Europe', 'LOCATION'],
      ['Asia', 'LOCATION'],
    ]);
  });
});
