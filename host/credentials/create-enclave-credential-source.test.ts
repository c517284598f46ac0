import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloisterError } from '../../protocol/cloister-error.ts';
import { createEnclaveCredentialSource } from './create-enclave-credential-source.ts';

const secretCanary = 'SECRET-CANARY-host-source-9f8e7d';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-credentials-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(run: () => unknown): Promise<CloisterError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(CloisterError);
    expect(JSON.stringify((error as CloisterError).toWire())).not.toContain(secretCanary);
    return error as CloisterError;
  }
  return expect.unreachable('no error');
}

describe('createEnclaveCredentialSource', () => {
  it('serves the AWS_* credentials of the host environment, expiration in ms since the epoch', async () => {
    const source = createEnclaveCredentialSource('env', {
      AWS_ACCESS_KEY_ID: 'ASIAENV',
      AWS_SECRET_ACCESS_KEY: secretCanary,
      AWS_SESSION_TOKEN: 'token',
      AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z',
    });
    expect(await source()).toEqual({ accessKeyId: 'ASIAENV', secretAccessKey: secretCanary, sessionToken: 'token', expiration: Date.parse('2030-01-01T00:00:00Z') });
  });

  it('refuses to start with env but no credentials in the environment', async () => {
    const error = await refusal(() => createEnclaveCredentialSource('env', { AWS_ACCESS_KEY_ID: 'AKIA1' }));
    expect(error.code).toBe('ERR_HOST_INVALID_CONFIG');
  });

  it('refuses an unparseable expiration in the environment without echoing the secret', async () => {
    const error = await refusal(() =>
      createEnclaveCredentialSource('env', { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: secretCanary, AWS_CREDENTIAL_EXPIRATION: 'soon' }),
    );
    expect(error.code).toBe('ERR_HOST_INVALID_CONFIG');
  });

  it('refuses an unknown source and a relative file path', async () => {
    expect((await refusal(() => createEnclaveCredentialSource('imds'))).code).toBe('ERR_HOST_INVALID_CONFIG');
    expect((await refusal(() => createEnclaveCredentialSource('file:creds.json'))).code).toBe('ERR_HOST_INVALID_CONFIG');
  });

  it('reads a credential_process file on every call, so a refresher on the parent can rewrite it', async () => {
    const path = join(dir, 'process.json');
    const source = createEnclaveCredentialSource(`file:${path}`);
    writeFileSync(path, JSON.stringify({ Version: 1, AccessKeyId: 'ASIAONE', SecretAccessKey: secretCanary, SessionToken: 't1', Expiration: '2030-01-01T00:00:00Z' }));
    expect(await source()).toEqual({ accessKeyId: 'ASIAONE', secretAccessKey: secretCanary, sessionToken: 't1', expiration: Date.parse('2030-01-01T00:00:00Z') });
    writeFileSync(path, JSON.stringify({ Version: 1, AccessKeyId: 'ASIATWO', SecretAccessKey: secretCanary }));
    expect(await source()).toEqual({ accessKeyId: 'ASIATWO', secretAccessKey: secretCanary });
  });

  it('answers ERR_HOST_CREDENTIALS_UNAVAILABLE for a missing, malformed or wrong-version file, quoting nothing from it', async () => {
    const missing = createEnclaveCredentialSource(`file:${join(dir, 'missing.json')}`);
    expect((await refusal(missing)).code).toBe('ERR_HOST_CREDENTIALS_UNAVAILABLE');
    for (const [name, text] of [
      ['truncated.json', `{"Version":1,"AccessKeyId":"A","SecretAccessKey":"${secretCanary}"`],
      ['version.json', JSON.stringify({ Version: 2, AccessKeyId: 'A', SecretAccessKey: secretCanary })],
      ['no-secret.json', JSON.stringify({ Version: 1, AccessKeyId: secretCanary })],
    ] as const) {
      writeFileSync(join(dir, name), text);
      const error = await refusal(createEnclaveCredentialSource(`file:${join(dir, name)}`));
      expect(error.code).toBe('ERR_HOST_CREDENTIALS_UNAVAILABLE');
      expect(error.message).not.toContain(dir);
    }
  });
});
