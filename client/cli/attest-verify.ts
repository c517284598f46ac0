/**
 * `cloister attest verify FILE [--root PEM] [--at TIME] [--pcr N=HEX]... [--nonce HEX] [--allow-debug] [--json]`
 *
 * Exit 0 when the document is valid, 1 when it is not, 2 on usage errors. Without `--root`
 * the built-in AWS Nitro Root-G1 is the trust anchor. `--json` prints one object:
 * `{valid, error?: {code, message}, moduleId, timestamp, pcrs: {"0": hex, …}, publicKey?,
 * userData?, nonce?, leafNotAfter, debug}`; for an invalid document the fields are whatever
 * could still be decoded.
 */
import {
  AttestationError,
  decodeAttestationDocument,
  hexToBytes,
  verifyAttestationDocument,
  type AttestationDocument,
  type VerifiedAttestation,
} from '../../attestation/index.ts';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { isDebug, optionalFieldsHex, pcrsToHex, readDocument, readInput, summarizeCertificate } from './attestation-file.ts';

const options = {
  root: { type: 'string' },
  at: { type: 'string' },
  pcr: { type: 'string', multiple: true },
  nonce: { type: 'string' },
  'allow-debug': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export interface VerifyOutput {
  readonly valid: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly moduleId?: string;
  readonly timestamp?: number;
  readonly pcrs?: Record<string, string>;
  readonly publicKey?: string;
  readonly userData?: string;
  readonly nonce?: string;
  readonly leafNotAfter?: string;
  readonly debug?: boolean;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  const at = values.at === undefined ? Date.now() : parseTime(values.at);
  const expectedPcrs = parsePcrs(values.pcr ?? []);
  let nonce: Uint8Array | undefined;
  if (values.nonce !== undefined) {
    nonce = hexToBytes(values.nonce);
    if (nonce === undefined || nonce.length === 0) throw new UsageError('--nonce must be non-empty hex');
  }
  const root = values.root === undefined ? undefined : readRoot(values.root);
  const bytes = await readDocument(positionals[0]!, io);

  let output: VerifyOutput;
  try {
    const verified = await verifyAttestationDocument(bytes, {
      at,
      expectedPcrs,
      allowDebug: values['allow-debug'] === true,
      ...(root === undefined ? {} : { root }),
      ...(nonce === undefined ? {} : { nonce }),
    });
    output = { valid: true, ...fromVerified(verified) };
  } catch (error) {
    if (!(error instanceof AttestationError)) throw error;
    if (error.category === 'configuration') {
      // A root or option the verifier refuses is the caller's mistake, not the document's.
      throw new UsageError(error.message);
    }
    output = { valid: false, error: { code: error.code, message: error.message }, ...fromDecoded(bytes) };
  }

  if (values.json) writeJson(io.stdout, output);
  else io.stdout.write(humanReadable(output));
  return output.valid ? EXIT_OK : EXIT_FAILURE;
}

function fromVerified(v: VerifiedAttestation): Omit<VerifyOutput, 'valid'> {
  return {
    moduleId: v.moduleId,
    timestamp: v.timestamp,
    pcrs: pcrsToHex(v.pcrs),
    ...optionalFieldsHex(v),
    leafNotAfter: v.leafNotAfter.toISOString(),
    debug: v.debug,
  };
}

/** What an invalid document still shows, unverified; nothing when it does not even decode. */
function fromDecoded(bytes: Uint8Array): Omit<VerifyOutput, 'valid'> {
  let doc: AttestationDocument;
  try {
    doc = decodeAttestationDocument(bytes);
  } catch {
    return {};
  }
  const leaf = summarizeCertificate(doc.certificate);
  return {
    moduleId: doc.moduleId,
    timestamp: doc.timestamp,
    pcrs: pcrsToHex(doc.pcrs),
    ...optionalFieldsHex(doc),
    ...(leaf === undefined ? {} : { leafNotAfter: leaf.notAfter }),
    debug: isDebug(doc.pcrs),
  };
}

function humanReadable(o: VerifyOutput): string {
  const lines = [o.valid ? 'valid' : `invalid: ${o.error?.code}: ${o.error?.message}`];
  if (o.moduleId !== undefined) lines.push(`module id      ${o.moduleId}`);
  if (o.timestamp !== undefined) lines.push(`timestamp      ${new Date(o.timestamp).toISOString()}`);
  if (o.leafNotAfter !== undefined) lines.push(`leaf notAfter  ${o.leafNotAfter}`);
  if (o.debug !== undefined) lines.push(`debug mode     ${o.debug ? 'yes' : 'no'}`);
  for (const [index, hex] of Object.entries(o.pcrs ?? {})) lines.push(`PCR${index.padEnd(11)} ${hex}`);
  if (o.publicKey !== undefined) lines.push(`public key     ${o.publicKey}`);
  if (o.userData !== undefined) lines.push(`user data      ${o.userData}`);
  if (o.nonce !== undefined) lines.push(`nonce          ${o.nonce}`);
  return `${lines.join('\n')}\n`;
}

/** ISO-8601 or epoch milliseconds. */
export function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError('--at must be ISO-8601 or epoch milliseconds');
  return ms;
}

function parsePcrs(items: readonly string[]): Record<number, Uint8Array> {
  const out: Record<number, Uint8Array> = {};
  for (const item of items) {
    const match = /^(\d{1,2})=([0-9a-fA-F]+)$/.exec(item);
    const index = match ? Number(match[1]) : -1;
    const value = match ? hexToBytes(match[2]!) : undefined;
    if (!match || index > 31 || value === undefined || ![32, 48, 64].includes(value.length)) {
      throw new UsageError('--pcr must be N=HEX with N in 0..31 and 32, 48 or 64 bytes of hex');
    }
    if (index in out) throw new UsageError(`--pcr ${index} given twice`);
    out[index] = value;
  }
  return out;
}

/** A PEM or DER file, or the PEM text itself. */
function readRoot(path: string): string | Uint8Array {
  if (path.trimStart().startsWith('-----BEGIN CERTIFICATE-----')) return path;
  const bytes = readInput(path, 'root certificate');
  const text = new TextDecoder().decode(bytes);
  return text.includes('-----BEGIN CERTIFICATE-----') ? text : bytes;
}
