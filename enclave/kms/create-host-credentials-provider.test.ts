import { describe, expect, it } from 'vitest';
import { createHostCredentialsProvider } from './create-host-credentials-provider.ts';
import { KmsCredentialsError } from './errors.ts';

const secretCanary = 'SECRET-CANARY-wJalrXUtnFEMI-K7MDENG';
const t0 = Date.parse('2026-11-21T12:00:00Z');
const minutes = (n: number): number => n * 60_000;

/** A host that answers from a queue and counts how often it was asked. */
function fakeHost(answers: unknown[]): { request: () => Promise<unknown>; calls: () => number } {
  let calls = 0;
  return {
    request: () => {
      calls += 1;
      const answer = answers.shift();
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    calls: () => calls,
  };
}

function errorOf(promise: Promise<unknown>): Promise<KmsCredentialsError> {
  return promise.then(
    () => expect.unreachable('the provider resolved'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(KmsCredentialsError);
      return error as KmsCredentialsError;
    },
  );
}

describe('createHostCredentialsProvider', () => {
  it('returns what the host pushed, with the expiration as a Date', async () => {
    const host = fakeHost([{ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: secretCanary, sessionToken: 'token-1', expiration: t0 + minutes(60) }]);
    const provider = createHostCredentialsProvider({ request: host.request, clock: () => t0 });
    expect(await provider()).toEqual({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: secretCanary, sessionToken: 'token-1', expiration: new Date(t0 + minutes(60)) });
  });

  it('keeps the credentials until five minutes before they expire, then asks the host again', async () => {
    let now = t0;
    const host = fakeHost([
      { accessKeyId: 'ASIAFIRST', secretAccessKey: secretCanary, expiration: t0 + minutes(60) },
      { accessKeyId: 'ASIASECOND', secretAccessKey: secretCanary, expiration: t0 + minutes(120) },
    ]);
    const provider = createHostCredentialsProvider({ request: host.request, clock: () => now });
    expect((await provider()).accessKeyId).toBe('ASIAFIRST');
    now = t0 + minutes(54);
    expect((await provider()).accessKeyId).toBe('ASIAFIRST');
    expect(host.calls()).toBe(1);
    now = t0 + minutes(55);
    expect((await provider()).accessKeyId).toBe('ASIASECOND');
    expect(host.calls()).toBe(2);
    now = t0 + minutes(100);
    expect((await provider()).accessKeyId).toBe('ASIASECOND');
    expect(host.calls()).toBe(2);
  });

  it('keeps credentials without an expiration for good', async () => {
    let now = t0;
    const host = fakeHost([{ accessKeyId: 'AKIASTATIC', secretAccessKey: secretCanary }]);
    const provider = createHostCredentialsProvider({ request: host.request, clock: () => now });
    await provider();
    now = t0 + minutes(60 * 24 * 365);
    expect((await provider()).accessKeyId).toBe('AKIASTATIC');
    expect(host.calls()).toBe(1);
  });

  it('asks the host once for concurrent callers', async () => {
    const host = fakeHost([{ accessKeyId: 'ASIAONCE', secretAccessKey: secretCanary, expiration: t0 + minutes(60) }]);
    const provider = createHostCredentialsProvider({ request: host.request, clock: () => t0 });
    const answers = await Promise.all([provider(), provider(), provider()]);
    expect(answers.map((a) => a.accessKeyId)).toEqual(['ASIAONCE', 'ASIAONCE', 'ASIAONCE']);
    expect(host.calls()).toBe(1);
  });

  it('fails with ERR_KMS_CREDENTIALS_UNAVAILABLE when the host does not answer, and asks again on the next call', async () => {
    const host = fakeHost([new Error('channel closed'), { accessKeyId: 'ASIALATER', secretAccessKey: secretCanary }]);
    const provider = createHostCredentialsProvider({ request: host.request, clock: () => t0 });
    const error = await errorOf(provider());
    expect(error.code).toBe('ERR_KMS_CREDENTIALS_UNAVAILABLE');
    expect(error.category).toBe('transient');
    expect((await provider()).accessKeyId).toBe('ASIALATER');
  });

  it('refuses credentials that have already expired', async () => {
    const host = fakeHost([{ accessKeyId: 'ASIAOLD', secretAccessKey: secretCanary, expiration: t0 - 1 }]);
    const error = await errorOf(createHostCredentialsProvider({ request: host.request, clock: () => t0 })());
    expect(error.code).toBe('ERR_KMS_CREDENTIALS_INVALID');
    expect(error.message).toBe('AWS credentials from the host: they have already expired');
  });

  const malformed: [string, unknown, string][] = [
    ['a non-map answer', [secretCanary], 'the answer is not a map'],
    ['an unknown field', { accessKeyId: 'AKIA1', secretAccessKey: secretCanary, extra: secretCanary }, 'the answer has unknown fields'],
    ['a missing access key id', { secretAccessKey: secretCanary }, 'accessKeyId is missing or malformed'],
    ['an empty secret', { accessKeyId: 'AKIA1', secretAccessKey: '' }, 'secretAccessKey is missing or malformed'],
    ['a secret with a space in it', { accessKeyId: 'AKIA1', secretAccessKey: `${secretCanary} x` }, 'secretAccessKey is missing or malformed'],
    ['a numeric session token', { accessKeyId: 'AKIA1', secretAccessKey: secretCanary, sessionToken: 7 }, 'sessionToken is malformed'],
    ['an expiration given as text', { accessKeyId: 'AKIA1', secretAccessKey: secretCanary, expiration: '2030-01-01T00:00:00Z' }, 'expiration is not milliseconds since the epoch'],
    ['a fractional expiration', { accessKeyId: 'AKIA1', secretAccessKey: secretCanary, expiration: t0 + 0.5 }, 'expiration is not milliseconds since the epoch'],
  ];
  for (const [what, answer, rule] of malformed) {
    it(`refuses ${what} with ERR_KMS_CREDENTIALS_INVALID, naming the rule and no value`, async () => {
      const error = await errorOf(createHostCredentialsProvider({ request: fakeHost([answer]).request, clock: () => t0 })());
      expect(error.code).toBe('ERR_KMS_CREDENTIALS_INVALID');
      expect(error.message).toBe(`AWS credentials from the host: ${rule}`);
      expect(JSON.stringify(error.toWire())).not.toContain(secretCanary);
    });
  }
});
