import { describe, expect, it } from 'vitest';
import {
  DER_TAG,
  DerError,
  children,
  encodeSmallUint,
  encodeTime,
  encodeUnsigned,
  readBitString,
  readBoolean,
  readIntegerBytes,
  readOnly,
  readSmallUint,
  readTime,
  readTlv,
} from './der.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const tlv = (h: string) => {
  const bytes = hex(h);
  return { bytes, tlv: readTlv(bytes, 0) };
};

describe('DER reader', () => {
  it('reads short and long definite lengths', () => {
    expect(readTlv(hex('04 02 aa bb'), 0)).toEqual({ tag: 4, offset: 0, start: 2, end: 4 });
    const long = new Uint8Array(3 + 200);
    long.set([0x04, 0x81, 200]);
    expect(readTlv(long, 0).end).toBe(203);
  });

  it('refuses indefinite lengths, non-minimal lengths, high tag numbers and truncation', () => {
    for (const bad of ['30 80 00 00', '04 81 05 0102030405', '04 82 00 80' + '00'.repeat(128), '1f 01 00', '04 05 01', '04', '04 84 00 00 00 01 00']) {
      expect(() => readTlv(hex(bad), 0)).toThrow(DerError);
    }
  });

  it('refuses trailing bytes after the outer value and children that overrun their parent', () => {
    expect(() => readOnly(hex('30 00 00'), DER_TAG.sequence)).toThrow(DerError);
    const { bytes, tlv: seq } = tlv('30 03 04 05 00');
    expect(() => children(bytes, seq)).toThrow(DerError);
  });

  it('reads DER booleans and refuses other encodings of true', () => {
    expect(readBoolean(hex('01 01 ff'), readTlv(hex('01 01 ff'), 0))).toBe(true);
    expect(readBoolean(hex('01 01 00'), readTlv(hex('01 01 00'), 0))).toBe(false);
    expect(() => readBoolean(hex('01 01 01'), readTlv(hex('01 01 01'), 0))).toThrow(DerError);
  });

  it('reads minimal integers and refuses padded ones', () => {
    expect(readSmallUint(hex('02 01 05'), readTlv(hex('02 01 05'), 0))).toBe(5);
    expect(readSmallUint(hex('02 02 00 80'), readTlv(hex('02 02 00 80'), 0))).toBe(128);
    expect(() => readSmallUint(hex('02 02 00 05'), readTlv(hex('02 02 00 05'), 0))).toThrow(DerError);
    expect(() => readSmallUint(hex('02 01 ff'), readTlv(hex('02 01 ff'), 0))).toThrow(DerError);
    expect(() => readIntegerBytes(hex('02 02 ff 80'), readTlv(hex('02 02 ff 80'), 0))).toThrow(DerError);
  });

  it('round-trips the integers and times it writes', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535]) {
      const bytes = encodeSmallUint(n);
      expect(readSmallUint(bytes, readTlv(bytes, 0))).toBe(n);
    }
    const serial = encodeUnsigned(hex('00 00 ff'));
    expect(Buffer.from(serial).toString('hex')).toBe('020200ff');
    for (const ms of [Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2049, 0, 1), Date.UTC(2050, 0, 1), Date.UTC(2136, 5, 1)]) {
      const bytes = encodeTime(ms);
      expect(readTime(bytes, readTlv(bytes, 0))).toBe(ms);
    }
  });

  it('reads UTCTime years 50-99 as 19xx and 00-49 as 20xx, and refuses impossible dates', () => {
    const time = (s: string, tag: number = DER_TAG.utcTime) => {
      const bytes = Uint8Array.from([tag, s.length, ...Buffer.from(s)]);
      return readTime(bytes, readTlv(bytes, 0));
    };
    expect(new Date(time('500101000000Z')).getUTCFullYear()).toBe(1950);
    expect(new Date(time('491231235959Z')).getUTCFullYear()).toBe(2049);
    expect(new Date(time('20500101000000Z', DER_TAG.generalizedTime)).getUTCFullYear()).toBe(2050);
    for (const bad of ['230230000000Z', '231301000000Z', '230101246000Z', '2301010000Z', '230101000000+0100', '230101000000.5Z']) {
      expect(() => time(bad)).toThrow(DerError);
    }
  });

  it('refuses BIT STRINGs with bad padding', () => {
    for (const bad of ['03 00', '03 01 01', '03 02 08 00', '03 02 01 01']) {
      expect(() => readBitString(hex(bad), readTlv(hex(bad), 0))).toThrow(DerError);
    }
    expect(readBitString(hex('03 02 01 86'), readTlv(hex('03 02 01 86'), 0)).bits).toEqual(hex('86'));
  });
});
