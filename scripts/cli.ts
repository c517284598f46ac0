/**
 * The `cloister` command line: a fixed table of subcommands, each loaded only when called so
 * that `cloister attest verify` does not pay for the HTTP server or the redaction gazetteers.
 */
import { EXIT_USAGE, UsageError, type CliCommand, type CliIo } from '../client/cli/cli-io.ts';

interface CommandEntry {
  readonly usage: string;
  readonly summary: string;
  readonly load: () => Promise<CliCommand>;
}

// Keys are the words that name a command; the longest match wins.
const commands: Readonly<Record<string, CommandEntry>> = {
  // attestation
  'attest verify': {
    usage: 'attest verify FILE [--root PEM] [--at TIME] [--pcr N=HEX]... [--nonce HEX] [--allow-debug] [--json]',
    summary: 'verify a Nitro attestation document (AWS Nitro root unless --root; TIME is ISO-8601 or epoch ms)',
    load: () => import('../client/cli/attest-verify.ts'),
  },
  'attest inspect': {
    usage: 'attest inspect FILE [--json]',
    summary: 'show the decoded fields of an attestation document without verifying it',
    load: () => import('../client/cli/attest-inspect.ts'),
  },
  measure: {
    usage: 'measure [--json]',
    summary: 'print the PCRs (0, 1, 2) a client should pin for this build',
    load: () => import('./measure.ts'),
  },
  // dev model (scripts/dev-model)
  'dev-model': {
    usage: 'cloister dev-model [--port N] [--host ADDR] [--data-dir DIR] [--api-key KEY]',
    summary: 'run the OpenAI-compatible development model stand-in (records every request it receives)',
    load: () => import('./dev-model/dev-model-command.ts'),
  },
};

export function usage(): string {
  const lines = Object.values(commands).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `usage: cloister <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[], io: CliIo = process): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.stderr : io.stdout).write(usage());
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  const match = findCommand(argv);
  if (!match) {
    io.stderr.write(`cloister: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${usage()}`);
    return EXIT_USAGE;
  }
  const [entry, rest] = match;
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`cloister: ${error.message}\nusage: ${entry.usage}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function findCommand(argv: readonly string[]): [CommandEntry, readonly string[]] | undefined {
  for (const words of [2, 1]) {
    const entry = commands[argv.slice(0, words).join(' ')];
    if (entry && argv.length >= words) return [entry, argv.slice(words)];
  }
  return undefined;
}
