import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnclaveEgress } from './create-enclave-egress.ts';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

describe('createEnclaveEgress', () => {
  it('gives no connector when no proxy is configured', () => {
    expect(createEnclaveEgress({})).toBeUndefined();
  });

  it('refuses egress settings without a proxy rather than ignore them', () => {
    expect(() => createEnclaveEgress({ allow: '127.0.0.1:4000' })).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_INVALID_CONFIG' }));
    expect(() => createEnclaveEgress({ direct: 'kms.us-east-1.amazonaws.com:443=unix:/run/kms.sock' })).toThrow(
      expect.objectContaining({ code: 'ERR_ENCLAVE_INVALID_CONFIG' }),
    );
  });

  it('names the invalid allow and direct entries by position', () => {
    expect(() => createEnclaveEgress({ proxy: 'unix:/run/egress.sock', allow: '127.0.0.1:4000,127.1:80' })).toThrow(
      "invalid enclave setting 'egress-allow': entries 1 are not host:port",
    );
    expect(() => createEnclaveEgress({ proxy: 'unix:/run/egress.sock', direct: 'kms.us-east-1.amazonaws.com:443' })).toThrow(
      "invalid enclave setting 'egress-direct': entry 0 is not host:port=unix:PATH",
    );
  });

  it('stops the boot with ERR_EGRESS_NOT_ALLOWED when an endpoint it must reach is not on the allowlist', () => {
    const create = () => createEnclaveEgress({ proxy: 'unix:/run/egress.sock', allow: '127.0.0.1:4000', reach: ['http://127.0.0.1:4001'] });
    expect(create).toThrow(expect.objectContaining({ code: 'ERR_EGRESS_NOT_ALLOWED', destination: '127.0.0.1:4001' }));
    // The default port of the scheme counts: https://host is host:443.
    expect(() => createEnclaveEgress({ proxy: 'unix:/run/egress.sock', allow: 'kms.eu-west-1.amazonaws.com:80', reach: ['https://KMS.eu-west-1.amazonaws.com'] })).toThrow(
      expect.objectContaining({ code: 'ERR_EGRESS_NOT_ALLOWED', destination: 'kms.eu-west-1.amazonaws.com:443' }),
    );
  });

  it('admits an endpoint that the bundle or the configured entries list, in any spelling of the same name', () => {
    const fromBundle = createEnclaveEgress({ proxy: 'unix:/run/egress.sock', bundleEgress: [{ host: 'kms.eu-west-1.amazonaws.com', port: 443 }], reach: ['https://KMS.eu-west-1.amazonaws.com/'] });
    const fromConfig = createEnclaveEgress({ proxy: 'unix:/run/egress.sock', allow: '127.0.0.1:4000', reach: ['http://127.0.0.1:4000'] });
    for (const c of [fromBundle, fromConfig]) {
      expect(c).toBeDefined();
      opened.push(c!);
    }
  });

  it('tunnels through the configured proxy and refuses, without contacting it, a destination off the allowlist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-enclave-egress-'));
    const heads: string[] = [];
    const server: Server = createServer((socket: Socket) => {
      socket.once('data', (chunk: Buffer) => {
        heads.push(chunk.toString('latin1').split('\r\n')[0]!);
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'egress.sock'), resolve));
    try {
      const egress = createEnclaveEgress({ proxy: `unix:${join(dir, 'egress.sock')}`, allow: '127.0.0.1:4000' })!;
      opened.push(egress);
      await expect(egress.connect({ host: '127.0.0.1', port: 4001 })).rejects.toMatchObject({ code: 'ERR_EGRESS_NOT_ALLOWED' });
      expect(heads).toEqual([]);
      await expect(egress.connect({ host: '127.0.0.1', port: 4000 })).rejects.toMatchObject({ code: 'ERR_EGRESS_REFUSED_BY_HOST' });
      expect(heads).toEqual(['CONNECT 127.0.0.1:4000 HTTP/1.1']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
