/**
 * `cloister kms open-envelope --key KEY.pem FILE [--json] [--parts]`: opens a KMS
 * `CiphertextForRecipient` (CMS, BER) with an RSA private key (PKCS#1 or PKCS#8 PEM) and prints
 * the plaintext as hex; with `--parts`, prints the encrypted key, IV and ciphertext without
 * decrypting (no key needed). Exit 1 with the error code when the envelope or key is invalid.
 */
import { readFile } from 'node:fs/promises';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs, writeJson, type CliIo } from '../client/cli/cli-io.ts';
import { openCiphertextForRecipient } from '../enclave/kms/open-ciphertext-for-recipient.ts';
import { parseCiphertextForRecipient } from '../enclave/kms/parse-ciphertext-for-recipient.ts';
import { isCloisterError } from '../protocol/cloister-error.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    key: { type: 'string' },
    json: { type: 'boolean', default: false },
    parts: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  if (!values.parts && values.key === undefined) throw new UsageError('--key is required unless --parts is given');
  const [file] = positionals as [string];

  let ber: Buffer;
  let pem: string | undefined;
  try {
    ber = await readFile(file);
    pem = values.key === undefined ? undefined : await readFile(values.key, 'utf8');
  } catch (error) {
    io.stderr.write(`cloister: cannot read ${(error as NodeJS.ErrnoException).path ?? 'input'}\n`);
    return EXIT_FAILURE;
  }

  try {
    if (values.parts) {
      const parts = parseCiphertextForRecipient(ber);
      const out = { encryptedKey: hex(parts.encryptedKey), iv: hex(parts.iv), ciphertext: hex(parts.ciphertext) };
      if (values.json) writeJson(io.stdout, out);
      else io.stdout.write(`encryptedKey ${out.encryptedKey}\niv ${out.iv}\nciphertext ${out.ciphertext}\n`);
    } else {
      const plaintext = hex(openCiphertextForRecipient(ber, pem!));
      if (values.json) writeJson(io.stdout, { plaintext });
      else io.stdout.write(`${plaintext}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (!isCloisterError(error)) throw error;
    if (values.json) writeJson(io.stdout, error.toWire());
    else io.stderr.write(`cloister: ${error.code}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
}
