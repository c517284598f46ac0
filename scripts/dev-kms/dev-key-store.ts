/**
 * The dev KMS's keys: one JSON file under the data dir, `dev-kms-keys.json`, mode 0600,
 * rewritten atomically (temporary file, then rename) on every change.
 *
 * DEVELOPMENT STAND-IN: the file holds the key material in the clear. It exists so that the
 * local stack and the tests can exercise the real KMS protocol; a real deployment uses AWS KMS,
 * whose keys never leave its HSMs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevKey {
  readonly keyId: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly description: string;
  readonly material: Uint8Array;
  policy: string;
}

interface StoredKey {
  keyId: string;
  arn: string;
  createdAt: number;
  description: string;
  material: string;
  policy: string;
}

const FILE = 'dev-kms-keys.json';
const WARNING = 'DEVELOPMENT STAND-IN for AWS KMS: key material is stored here in the clear. Never use it for real data.';

export interface DevKeyStore {
  readonly file: string;
  create(options: { description: string; policy: string; region: string; account: string; createdAt: number }): DevKey;
  get(keyIdOrArn: string): DevKey | undefined;
  list(): readonly DevKey[];
  setPolicy(key: DevKey, policy: string): void;
}

export function createDevKeyStore(dataDir: string): DevKeyStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, FILE);
  const keys = new Map<string, DevKey>();
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: StoredKey[] };
    for (const k of stored.keys) keys.set(k.keyId, { ...k, material: Buffer.from(k.material, 'base64') });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }

  const save = (): void => {
    const stored: StoredKey[] = [...keys.values()].map((k) => ({ ...k, material: Buffer.from(k.material).toString('base64') }));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ warning: WARNING, version: 1, keys: stored }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  };

  return {
    file,
    create({ description, policy, region, account, createdAt }) {
      const keyId = randomUUID();
      const key: DevKey = { keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}`, createdAt, description, material: randomBytes(32), policy };
      keys.set(keyId, key);
      save();
      return key;
    },
    get(keyIdOrArn) {
      const match = /^arn:aws:kms:[^:]+:\d{12}:key\/(.+)$/.exec(keyIdOrArn);
      const key = keys.get(match ? match[1]! : keyIdOrArn);
      return key && (match === null || key.arn === keyIdOrArn) ? key : undefined;
    },
    list: () => [...keys.values()],
    setPolicy(key, policy) {
      key.policy = policy;
      save();
    },
  };
}
