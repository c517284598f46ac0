import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { main } from './cli.ts';

const dir = vectorsDir('kms');

function memoryIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => out.join(''), err: () => err.join('') };
}

async function cli(...argv: string[]) {
  const { io, out, err } = memoryIo();
  const code = await main(argv, io);
  return { code, stdout: out(), stderr: err() };
}

describe.skipIf(!dir)('cloister kms open-envelope', () => {
  let work: string;
  const sample = () => join(dir!, 'edgebit-ciphertext-for-recipient.ber');
  const key = () => join(dir!, 'edgebit-recipient-key.pem');
  const expectedHex = () => readFileSync(join(dir!, 'edgebit-expected-plaintext.bin')).toString('hex');

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cloister-kms-cli-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('prints the plaintext as hex with a PKCS#1 key', async () => {
    const result = await cli('kms', 'open-envelope', '--key', key(), sample());
    expect(result).toMatchObject({ code: 0, stdout: `${expectedHex()}\n` });
  });

  it('prints {plaintext} with --json and a PKCS#8 key', async () => {
    const pkcs8 = join(work, 'pkcs8.pem');
    writeFileSync(pkcs8, createPrivateKey(readFileSync(key(), 'utf8')).export({ type: 'pkcs8', format: 'pem' }));
    const result = await cli('kms', 'open-envelope', '--key', pkcs8, sample(), '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ plaintext: expectedHex() });
  });

  it('prints {encryptedKey, iv, ciphertext} with --parts, without a key', async () => {
    const base = join(dir!, 'aws-sdk-c-cms-chunked');
    const result = await cli('kms', 'open-envelope', '--parts', '--json', `${base}.ber`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      encryptedKey: readFileSync(`${base}.expected-encrypted-key.bin`).toString('hex'),
      iv: readFileSync(`${base}.expected-iv.bin`).toString('hex'),
      ciphertext: readFileSync(`${base}.expected-ciphertext.bin`).toString('hex'),
    });
  });

  it('exits 1 with the error code for a truncated envelope', async () => {
    const truncated = join(work, 'truncated.ber');
    writeFileSync(truncated, readFileSync(sample()).subarray(0, 300));
    const result = await cli('kms', 'open-envelope', '--key', key(), truncated, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('ERR_CMS_MALFORMED_BER');
    const plain = await cli('kms', 'open-envelope', '--key', key(), truncated);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('ERR_CMS_MALFORMED_BER');
  });

  it('exits 1 with ERR_KMS_RECIPIENT_KEY_MISMATCH for another key', async () => {
    const other = join(work, 'other.pem');
    const { generateKeyPairSync } = await import('node:crypto');
    writeFileSync(other, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const result = await cli('kms', 'open-envelope', '--key', other, sample());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ERR_KMS_RECIPIENT_KEY_MISMATCH');
  });

  it('exits 2 without --key or FILE', async () => {
    expect((await cli('kms', 'open-envelope', sample())).code).toBe(2);
    expect((await cli('kms', 'open-envelope', '--key', key())).code).toBe(2);
  });

  it('works as a real process through bin/cloister.js', async () => {
    const bin = resolve(import.meta.dirname, '..', 'bin', 'cloister.js');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'kms', 'open-envelope', '--key', key(), sample(), '--json']);
    expect(JSON.parse(stdout)).toEqual({ plaintext: expectedHex() });
  });
});
