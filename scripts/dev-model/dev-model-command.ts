/**
 * `cloister dev-model [--port N] [--host ADDR] [--data-dir DIR] [--api-key KEY]`: runs the dev model
 * server until SIGINT or SIGTERM. Prints a notice that it is a development stand-in on stderr and
 * `ready URL` (the OpenAI base URL) on stdout once it listens, so scripts can wait for that line.
 */
import { once } from 'node:events';
import { resolve } from 'node:path';
import { EXIT_OK, parseCommandArgs, UsageError, type CliIo } from '../../client/cli/cli-io.ts';
import { startDevModelServer } from './dev-model-server.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const stopped = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]).then(() => undefined);
  return serveDevModel(args, io, stopped);
}

/** The command with its stop condition handed in, so tests can end it without signals. */
export async function serveDevModel(args: readonly string[], io: CliIo, stopped: Promise<void>): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    'api-key': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65_535) throw new UsageError('--port must be a number from 0 to 65535');
  const dataDir = resolve(values['data-dir'] ?? process.env.CLOISTER_DATA_DIR ?? '.cloister');
  const server = await startDevModelServer({
    port: Number(values.port),
    host: values.host,
    dataDir,
    ...(values['api-key'] === undefined ? {} : { apiKey: values['api-key'] }),
  });
  io.stderr.write(
    `cloister dev-model: DEVELOPMENT STAND-IN, not a real model. It answers by quoting its prompt and ` +
      `records every request it receives in ${server.requestLogPath}.\n` +
      `cloister dev-model: models ${server.models.chat} (chat), ${server.models.embedding} (embeddings)\n`,
  );
  io.stdout.write(`ready ${server.url}\n`);
  await stopped;
  await server.close();
  return EXIT_OK;
}
