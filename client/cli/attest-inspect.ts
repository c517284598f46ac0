/**
 * `cloister attest inspect FILE [--json]`: the decoded fields of an attestation document,
 * WITHOUT verifying it. Exit 0 when it decodes, 1 when it does not, 2 on usage errors.
 */
import { AttestationError, decodeAttestationDocument, type AttestationDocument } from '../../attestation/index.ts';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { isDebug, optionalFieldsHex, pcrsToHex, readDocument, summarizeCertificate, type CertificateSummary } from './attestation-file.ts';

const options = { json: { type: 'boolean' } } as const;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  const bytes = await readDocument(positionals[0]!, io);
  let doc: AttestationDocument;
  try {
    doc = decodeAttestationDocument(bytes);
  } catch (error) {
    if (!(error instanceof AttestationError)) throw error;
    if (values.json) writeJson(io.stdout, { decoded: false, error: { code: error.code, message: error.message } });
    else io.stdout.write(`not an attestation document: ${error.code}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  const output = {
    decoded: true,
    verified: false,
    moduleId: doc.moduleId,
    digest: doc.digest,
    timestamp: doc.timestamp,
    pcrs: pcrsToHex(doc.pcrs),
    ...optionalFieldsHex(doc),
    debug: isDebug(doc.pcrs),
    tagged: doc.tagged,
    certificate: summarizeCertificate(doc.certificate) ?? null,
    cabundle: doc.cabundle.map((der) => summarizeCertificate(der) ?? null),
  };
  if (values.json) {
    writeJson(io.stdout, output);
    return EXIT_OK;
  }
  const cert = (c: CertificateSummary | null) => (c ? `${c.subject}\n      valid ${c.notBefore} .. ${c.notAfter}` : '(not parseable)');
  const lines = [
    'NOT VERIFIED: decoded fields only (use `cloister attest verify` to check it)',
    `module id   ${output.moduleId}`,
    `timestamp   ${new Date(output.timestamp).toISOString()} (${output.timestamp})`,
    `digest      ${output.digest}`,
    `debug mode  ${output.debug ? 'yes (PCR0-2 all zero)' : 'no'}`,
    `COSE tag    ${output.tagged ? '18' : 'none'}`,
    ...Object.entries(output.pcrs).map(([i, hex]) => `PCR${i.padEnd(8)} ${hex}`),
    ...(output.publicKey === undefined ? [] : [`public key  ${output.publicKey}`]),
    ...(output.userData === undefined ? [] : [`user data   ${output.userData}`]),
    ...(output.nonce === undefined ? [] : [`nonce       ${output.nonce}`]),
    `leaf        ${cert(output.certificate)}`,
    ...output.cabundle.map((c, i) => `cabundle[${i}] ${cert(c)}`),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
