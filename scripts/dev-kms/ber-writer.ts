/**
 * The few BER encodings the dev KMS needs to write a `CiphertextForRecipient` byte for byte the
 * way AWS KMS does: definite-length values, and constructed values with indefinite length
 * (0x80 … end-of-contents 00 00).
 */

export const berTags = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
  /** [n] context-specific, primitive. */
  context: (n: number): number => 0x80 | n,
  /** [n] context-specific, constructed. */
  contextConstructed: (n: number): number => 0xa0 | n,
} as const;

function lengthBytes(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const out: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256);
  return Uint8Array.of(0x80 | out.length, ...out);
}

/** A definite-length value (primitive or constructed) with a one-byte tag. */
export function berDefinite(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  return Buffer.concat([Uint8Array.of(tag), lengthBytes(body.length), body]);
}

/** A constructed value with indefinite length: tag, 0x80, the children, end-of-contents. */
export function berIndefinite(tag: number, ...children: readonly Uint8Array[]): Uint8Array {
  if ((tag & 0x20) === 0) throw new RangeError('indefinite length needs a constructed tag');
  return Buffer.concat([Uint8Array.of(tag, 0x80), ...children, Uint8Array.of(0, 0)]);
}

export function berOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first = 0n, second = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return berDefinite(berTags.oid, Uint8Array.from(out));
}

export function berSmallInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x7f) throw new RangeError('small integer out of range');
  return berDefinite(berTags.integer, Uint8Array.of(value));
}

export const berNull: Uint8Array = Uint8Array.of(berTags.null, 0);
