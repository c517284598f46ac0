/**
 * The options every command that calls the enclave through a host shares: `--url URL
 * [--trust FILE] [--token T] [--api-key K] [--json]`, plus the command's own.
 */
import type { ParseArgsConfig } from 'node:util';
import type { JsonValue } from '../../protocol/messages.ts';
import { createClient, type CloisterClient } from '../create-client.ts';
import { parseCommandArgs, UsageError } from './cli-io.ts';
import { apiKeyOption, readTrustFile } from './trust-file.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

const shared = {
  url: { type: 'string' },
  trust: { type: 'string' },
  token: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies Options;

export function parseClientCommandArgs<O extends Options>(args: readonly string[], own: O = {} as O) {
  const parsed = parseCommandArgs(args, { ...shared, ...own });
  // parseArgs cannot type a merge with the caller's options; every value is a string or a flag.
  const values = parsed.values as Readonly<Record<string, string | boolean | undefined>>;
  const positionals = parsed.positionals;
  const url = values.url;
  if (typeof url !== 'string' || url === '') throw new UsageError('--url is required');
  const trust = values.trust as string | undefined;
  const apiKey = values['api-key'] as string | undefined;
  return {
    values,
    positionals,
    json: values.json === true,
    token: values.token as string | undefined,
    client: (): CloisterClient => createClient({ url, trust: readTrustFile(trust), ...apiKeyOption(apiKey) }),
  };
}

/** A workflow input given on the command line (INPUT_JSON). */
export function parseInputJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError('INPUT_JSON is not valid JSON');
  }
}
