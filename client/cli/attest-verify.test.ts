import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm } from '../../attestation/index.ts';
import { main } from '../../scripts/cli.ts';
import { memoryIo } from '../../testing/memory-io.ts';
import { loadNitroVectors } from '../../testing/nitro-vectors.ts';
import { vectorsDir } from '../../testing/shared-vectors.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nitro = vectorsDir('nitro');

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

const START = Date.parse('2026-02-01T10:00:00Z');
const pcr0 = 'ab'.repeat(48);
let tmp: string;
let docPath: string;
let rootPath: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cloister-attest-cli-'));
  const pki = await createDevPki({ now: START });
  const nsm = createSimulatedNsm({ pki, pcrs: { 0: pcr0 }, moduleId: 'dev-cli-enc01', now: () => START });
  docPath = join(tmp, 'doc.cbor');
  rootPath = join(tmp, 'root.pem');
  writeFileSync(docPath, await nsm.attest({ nonce: Uint8Array.of(1, 2, 3), userData: Uint8Array.of(9) }));
  writeFileSync(rootPath, pki.rootPem);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('cloister attest verify', () => {
  it('prints the contract JSON and exits 0 for a valid document', async () => {
    const { code, out } = await cli('attest', 'verify', docPath, '--root', rootPath, '--at', String(START), '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out) as Record<string, unknown>;
    expect(json).toMatchObject({ valid: true, moduleId: 'dev-cli-enc01', timestamp: START, nonce: '010203', userData: '09', debug: false });
    expect(json).not.toHaveProperty('error');
    expect(json).not.toHaveProperty('publicKey');
    expect((json.pcrs as Record<string, string>)['0']).toBe(pcr0);
    expect(Object.keys(json.pcrs as object)).toHaveLength(16);
    expect(json.leafNotAfter).toBe(new Date(START + 3 * 3600_000).toISOString());
  });

  it('accepts --at as ISO-8601 and checks --pcr (either case) and --nonce', async () => {
    const at = new Date(START + 60_000).toISOString();
    const ok = await cli('attest', 'verify', docPath, '--root', rootPath, '--at', at, '--pcr', `0=${pcr0.toUpperCase()}`, '--nonce', '010203');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^valid/);
    const wrongPcr = await cli('attest', 'verify', docPath, '--root', rootPath, '--at', at, '--pcr', `0=${'cd'.repeat(48)}`, '--json');
    expect(wrongPcr.code).toBe(1);
    expect(JSON.parse(wrongPcr.out)).toMatchObject({ valid: false, error: { code: 'ERR_ATTESTATION_PCR_MISMATCH' }, moduleId: 'dev-cli-enc01' });
    const wrongNonce = await cli('attest', 'verify', docPath, '--root', rootPath, '--at', at, '--nonce', '010204', '--json');
    expect(wrongNonce.code).toBe(1);
    expect(JSON.parse(wrongNonce.out).error.code).toBe('ERR_ATTESTATION_NONCE_MISMATCH');
  });

  it('takes --root as a PEM file, a DER file or the PEM text itself', async () => {
    const pem = readFileSync(rootPath, 'utf8');
    const derPath = join(tmp, 'root.der');
    writeFileSync(derPath, Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    for (const root of [rootPath, derPath, pem]) {
      // A value that starts with '-' must be attached with '=' (node:util parseArgs).
      const { code, err } = await cli('attest', 'verify', docPath, `--root=${root}`, '--at', String(START));
      expect({ code, err }).toEqual({ code: 0, err: '' });
    }
  });

  it('uses the AWS root when no --root is given, so a simulated document is invalid', async () => {
    const { code, out } = await cli('attest', 'verify', docPath, '--at', String(START), '--json');
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ valid: false, error: { code: 'ERR_ATTESTATION_ROOT_MISMATCH' }, moduleId: 'dev-cli-enc01' });
  });

  it('exits 1 with only the error for bytes that are not a document', async () => {
    const junk = join(tmp, 'junk.cbor');
    writeFileSync(junk, 'not cbor at all');
    const { code, out } = await cli('attest', 'verify', junk, '--json');
    expect(code).toBe(1);
    const json = JSON.parse(out) as Record<string, unknown>;
    expect(json.valid).toBe(false);
    expect(json).not.toHaveProperty('moduleId');
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [
      ['attest', 'verify'],
      ['attest', 'verify', docPath, docPath],
      ['attest', 'verify', docPath, '--at', 'yesterday'],
      ['attest', 'verify', docPath, '--pcr', '0=xyz'],
      ['attest', 'verify', docPath, '--pcr', `32=${pcr0}`],
      ['attest', 'verify', docPath, '--pcr', `0=${pcr0}`, '--pcr', `0=${pcr0}`],
      ['attest', 'verify', docPath, '--nonce', 'zz'],
      ['attest', 'verify', docPath, '--bogus'],
      ['attest', 'verify', join(tmp, 'missing.cbor')],
      ['attest', 'verify', docPath, '--root', join(tmp, 'missing.pem')],
      ['attest', 'verify', docPath, '--root', docPath],
    ]) {
      const { code, err } = await cli(...argv);
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(err).toMatch(/usage: cloister attest verify/);
    }
  });
});

describe.skipIf(!nitro)('cloister attest verify on the real AWS documents', () => {
  const vectors = loadNitroVectors(nitro!);
  const genuine = vectors.documents.filter((d) => d.genuine);

  it('is valid inside the leaf window and invalid one second after it', async () => {
    for (const doc of genuine) {
      const path = join(nitro!, doc.file);
      const inside = await cli('attest', 'verify', path, '--at', new Date(doc.verifyAt).toISOString(), '--allow-debug', '--json');
      expect(inside.code).toBe(0);
      expect(JSON.parse(inside.out)).toMatchObject({ valid: true, moduleId: doc.moduleId, debug: doc.debug });
      const after = await cli('attest', 'verify', path, '--at', String(doc.leafNotAfter! + 1000), '--allow-debug', '--json');
      expect(after.code).toBe(1);
      expect(JSON.parse(after.out).error.code).toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED');
    }
  });

  it('rejects the debug document unless --allow-debug', async () => {
    const debug = genuine.find((d) => d.debug)!;
    const path = join(nitro!, debug.file);
    const refused = await cli('attest', 'verify', path, '--at', String(debug.verifyAt), '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ valid: false, error: { code: 'ERR_ATTESTATION_DEBUG_MODE' }, debug: true });
  });

  it('runs as the installed `cloister` binary', () => {
    const doc = genuine.find((d) => !d.debug)!;
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'attest', 'verify', join(nitro!, doc.file), '--at', String(doc.verifyAt), '--json'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, moduleId: doc.moduleId });
    const bad = vectors.documents.find((d) => !d.genuine)!;
    const invalid = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'attest', 'verify', join(nitro!, bad.file), '--at', String(bad.verifyAt)], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(invalid.status).toBe(1);
    expect(invalid.stdout).toMatch(/ERR_ATTESTATION_SIGNATURE_INVALID/);
  });
});
