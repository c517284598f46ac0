/**
 * The real AWS Nitro attestation documents in `../shared/vectors/nitro/`, read in place through
 * their `index.json`. Tests call `loadNitroVectors(vectorsDir('nitro'))`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NitroVector {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** False for the deliberately broken documents (file name contains INVALID). */
  readonly genuine: boolean;
  readonly verifyAt: number;
  readonly expected: string;
  readonly moduleId?: string;
  readonly timestamp?: number;
  readonly leafNotBefore?: number;
  readonly leafNotAfter?: number;
  readonly debug?: boolean;
  readonly pcrs?: Readonly<Record<string, string>>;
}

export interface NitroVectors {
  readonly rootPem: string;
  readonly rootSha256: string;
  readonly documents: readonly NitroVector[];
}

interface IndexJson {
  root: { file: string; sha256_der: string };
  documents: {
    file: string;
    suggested_verify_at: string;
    expected: string;
    module_id?: string;
    timestamp?: string;
    leaf_not_before?: string;
    leaf_not_after?: string;
    debug_mode?: boolean;
    pcrs?: Record<string, string>;
  }[];
}

export function loadNitroVectors(dir: string): NitroVectors {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as IndexJson;
  const time = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));
  return {
    rootPem: readFileSync(join(dir, index.root.file), 'utf8'),
    rootSha256: index.root.sha256_der,
    documents: index.documents.map((d) => ({
      file: d.file,
      bytes: new Uint8Array(readFileSync(join(dir, d.file))),
      genuine: !d.file.includes('INVALID'),
      verifyAt: Date.parse(d.suggested_verify_at),
      expected: d.expected,
      ...(d.module_id === undefined ? {} : { moduleId: d.module_id }),
      ...(d.timestamp === undefined ? {} : { timestamp: time(d.timestamp)! }),
      ...(d.leaf_not_before === undefined ? {} : { leafNotBefore: time(d.leaf_not_before)! }),
      ...(d.leaf_not_after === undefined ? {} : { leafNotAfter: time(d.leaf_not_after)! }),
      ...(d.debug_mode === undefined ? {} : { debug: d.debug_mode }),
      ...(d.pcrs === undefined ? {} : { pcrs: d.pcrs }),
    })),
  };
}
