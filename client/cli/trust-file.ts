/** What the client commands share: the trust file (default `.cloister/trust.json`) and the API key. */
import { readFileSync } from 'node:fs';
import { TrustConfigError } from '../errors.ts';
import { parseTrustConfig, type TrustConfig } from '../trust.ts';

export const DEFAULT_TRUST_FILE = '.cloister/trust.json';

export function readTrustFile(path: string | undefined): TrustConfig {
  let text: string;
  try {
    text = readFileSync(path ?? DEFAULT_TRUST_FILE, 'utf8');
  } catch {
    throw new TrustConfigError({ reason: `cannot read the trust file (default ${DEFAULT_TRUST_FILE}; run \`cloister up\` or pass --trust)` });
  }
  try {
    return parseTrustConfig(JSON.parse(text));
  } catch (error) {
    if (error instanceof SyntaxError) throw new TrustConfigError({ reason: 'the trust file is not JSON' });
    throw error;
  }
}

/** `--api-key`, else `CLOISTER_API_KEY` (preferred: a flag is visible to other users in `ps`). */
export function apiKeyOption(flag: string | undefined): { apiKey?: string } {
  const key = flag ?? process.env.CLOISTER_API_KEY;
  return key ? { apiKey: key } : {};
}
