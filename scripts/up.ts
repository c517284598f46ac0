/**
 * `cloister up [--port N] [--model-port N] [--data-dir DIR]`: the local stack in the foreground (see
 * stack/start-stack.ts). The dev model server listens on `--model-port` (default 4010, the port the
 * shipped bundle names; 0 picks a free one): its URL is measured, so a fixed port keeps the PCRs
 * the same from one `up` to the next. Prints `ready http://127.0.0.1:PORT` once it serves; SIGINT or SIGTERM
 * stops the host and the enclave and removes the socket. API keys for the host come from
 * `CLOISTER_API_KEYS` (comma-separated); without them the API is open (development only).
 */
import { dirname, join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, type CliIo } from '../client/cli/cli-io.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import { startStack } from './stack/start-stack.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    port: { type: 'string', default: '8080' },
    'model-port': { type: 'string' },
    'data-dir': { type: 'string', default: '.cloister' },
  });
  if (positionals.length > 0) throw new UsageError('unexpected arguments');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  const modelPort = values['model-port'] === undefined ? undefined : Number(values['model-port']);
  if (modelPort !== undefined && (!/^\d{1,5}$/.test(values['model-port']!) || modelPort > 65535)) throw new UsageError('--model-port must be 0-65535');
  const apiKeys = (process.env.CLOISTER_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  let stack;
  try {
    stack = await startStack({ port, ...(modelPort === undefined ? {} : { modelPort }), dataDir: values['data-dir']!, apiKeys, log: (line) => io.stderr.write(`${line}\n`) });
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    io.stderr.write(`cloister up: ${error.code}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  io.stderr.write(`[up] trust file ${stack.trustFile} (pin it: cloister invoke --trust ${stack.trustFile} ...)\n`);
  io.stderr.write(`[up] development token ${stack.tokenFile} (claims-analysts); reviewer keys in ${join(dirname(stack.policy.bundleDir), "reviewers")}; try: cloister demo --url ${stack.url}\n`);
  io.stdout.write(`ready ${stack.url}\n`);
  const onSignal = (): void => void stack.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stack.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  io.stderr.write('[up] stopped\n');
  return EXIT_OK;
}
