import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm } from '../../attestation/index.ts';
import { main } from '../../scripts/cli.ts';
import { memoryIo } from '../../testing/memory-io.ts';

const START = Date.parse('2026-02-01T10:00:00Z');
let tmp: string;
let docPath: string;
let docBytes: Uint8Array;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cloister-inspect-'));
  const pki = await createDevPki({ now: START });
  docBytes = await createSimulatedNsm({ pki, pcrs: {}, moduleId: 'dev-inspect-enc01', now: () => START }).attest({ publicKey: new Uint8Array(32).fill(5) });
  docPath = join(tmp, 'doc.cbor');
  writeFileSync(docPath, docBytes);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('cloister attest inspect', () => {
  it('shows the decoded fields as JSON without verifying (a simulated document against no root)', async () => {
    const io = memoryIo();
    expect(await main(['attest', 'inspect', docPath, '--json'], io)).toBe(0);
    const json = JSON.parse(io.stdoutText());
    expect(json).toMatchObject({
      decoded: true,
      verified: false,
      moduleId: 'dev-inspect-enc01',
      digest: 'SHA384',
      timestamp: START,
      publicKey: '05'.repeat(32),
      debug: true,
      tagged: false,
    });
    expect(json.cabundle).toHaveLength(3);
    expect(json.certificate.subject).toMatch(/development stand-in/);
  });

  it('says plainly that it did not verify', async () => {
    const io = memoryIo();
    expect(await main(['attest', 'inspect', docPath], io)).toBe(0);
    expect(io.stdoutText()).toMatch(/^NOT VERIFIED/);
  });

  it('reads the document from stdin when FILE is -', async () => {
    const io = memoryIo(docBytes);
    expect(await main(['attest', 'inspect', '-', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdoutText()).moduleId).toBe('dev-inspect-enc01');
  });

  it('exits 1 with the decode error for bytes that are not a document', async () => {
    const io = memoryIo(Uint8Array.of(0x84, 0x40, 0xa0, 0x40));
    expect(await main(['attest', 'inspect', '-', '--json'], io)).toBe(1);
    expect(JSON.parse(io.stdoutText())).toMatchObject({ decoded: false, error: { code: 'ERR_ATTESTATION_CBOR_MALFORMED' } });
  });

  it('exits 2 without a FILE', async () => {
    expect(await main(['attest', 'inspect'], memoryIo())).toBe(2);
  });
});
