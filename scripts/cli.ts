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
  // policies and workflow definitions (policies/, protocol/workflows/)
  token: {
    usage: 'cloister token --issuer-key FILE (--generate [--iss URL] [--aud AUD] [--alg ES256|EdDSA] | --sub SUB [--groups G,…] [--roles R,…] [--ttl 1h])',
    summary: 'mint a development identity token, or generate the development issuer key',
    load: () => import('./policy/token.ts'),
  },
  'policy check': {
    usage: 'cloister policy check DIR [--json]',
    summary: 'validate a policy bundle directory and print its digest',
    load: () => import('./policy/check.ts'),
  },
  'policy dev-keys': {
    usage: 'cloister policy dev-keys --out DIR [--bundle SRC] [--model-url URL]',
    summary: 'generate development issuer and reviewer keys and a bundle that trusts them',
    load: () => import('./policy/dev-keys.ts'),
  },
  'workflow validate': {
    usage: 'cloister workflow validate FILE [--bundle DIR] [--json]',
    summary: 'validate a workflow document (JSON or YAML) and print its digest',
    load: () => import('./policy/workflow-validate.ts'),
  },
  'workflow approve': {
    usage: 'cloister workflow approve --key KEY [--reject] [--json] [--url URL [--api-key K]] FILE',
    summary: "sign a review of a workflow document's digest with a reviewer key; with --url also post it to the control plane",
    load: () => import('./policy/workflow-approve.ts'),
  },
  'workflow reject': {
    usage: 'cloister workflow reject --key KEY [--json] [--url URL [--api-key K]] FILE',
    summary: "sign a rejection of a workflow document's digest; with --url also post it to the control plane",
    load: () => import('./policy/workflow-reject.ts'),
  },
  // workflow control plane (host/control-plane; client commands in client/cli/; admin key from --api-key or CLOISTER_ADMIN_KEY)
  'workflow create': {
    usage: 'cloister workflow create --url URL [--api-key K] [--json] FILE',
    summary: 'send a workflow document (JSON or YAML) to the control plane as a draft',
    load: () => import('../client/cli/workflow-create.ts'),
  },
  'workflow submit': {
    usage: 'cloister workflow submit --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'submit a draft for review: pins its digest',
    load: () => import('../client/cli/workflow-submit.ts'),
  },
  'workflow launch': {
    usage: 'cloister workflow launch --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'launch an approved workflow (the enclave re-verifies its approvals)',
    load: () => import('../client/cli/workflow-launch.ts'),
  },
  'workflow pause': {
    usage: 'cloister workflow pause --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'pause a launched workflow',
    load: () => import('../client/cli/workflow-pause.ts'),
  },
  'workflow resume': {
    usage: 'cloister workflow resume --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'resume a paused workflow',
    load: () => import('../client/cli/workflow-resume.ts'),
  },
  'workflow stop': {
    usage: 'cloister workflow stop --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'stop a launched or paused workflow for good',
    load: () => import('../client/cli/workflow-stop.ts'),
  },
  'workflow list': {
    usage: 'cloister workflow list --url URL [--api-key K] [--json]',
    summary: 'list workflow versions with their state and digest',
    load: () => import('../client/cli/workflow-list.ts'),
  },
  'workflow show': {
    usage: 'cloister workflow show --url URL [--api-key K] [--json] NAME@VERSION',
    summary: 'show a workflow version: state, digest, reviews, history (--json: document and signed reviews too)',
    load: () => import('../client/cli/workflow-show.ts'),
  },
  // attestation
  'attest verify': {
    usage: 'cloister attest verify FILE [--root PEM] [--at TIME] [--pcr N=HEX]... [--nonce HEX] [--allow-debug] [--json]',
    summary: 'verify a Nitro attestation document (AWS Nitro root unless --root; TIME is ISO-8601 or epoch ms)',
    load: () => import('../client/cli/attest-verify.ts'),
  },
  'attest inspect': {
    usage: 'cloister attest inspect FILE [--json]',
    summary: 'show the decoded fields of an attestation document without verifying it',
    load: () => import('../client/cli/attest-inspect.ts'),
  },
  measure: {
    usage: 'cloister measure [--json] [--policy-bundle DIR]',
    summary: 'print the PCRs (0, 1, 2) a client should pin for this build',
    load: () => import('./measure.ts'),
  },
  // KMS (enclave/kms, scripts/dev-kms)
  'kms open-envelope': {
    usage: 'cloister kms open-envelope --key KEY.pem FILE [--json] [--parts]',
    summary: 'open a KMS CiphertextForRecipient (CMS) with an RSA key; --parts prints its encrypted key, IV and ciphertext',
    load: () => import('./kms-open-envelope.ts'),
  },
  seal: {
    usage: 'cloister seal --kms URL --key-id ID --collection NAME [--classification LEVEL] [--region REGION] DIR OUT',
    summary: 'seal a folder of text, Markdown and JSON-lines documents into a collection only an attested enclave can open',
    load: () => import('./seal.ts'),
  },
  'dev-kms': {
    usage: 'cloister dev-kms --data-dir DIR [--port N] [--region REGION] [--root-pem FILE]',
    summary: 'run the dev KMS (a development stand-in for AWS KMS, key material in the clear under DIR) on loopback',
    load: () => import('./dev-kms/dev-kms-command.ts'),
  },
  // dev model (scripts/dev-model)
  'dev-model': {
    usage: 'cloister dev-model [--port N] [--host ADDR] [--data-dir DIR] [--api-key KEY]',
    summary: 'run the OpenAI-compatible development model stand-in (records every request it receives)',
    load: () => import('./dev-model/dev-model-command.ts'),
  },
  // workflows (enclave/workflow, scripts/demo-data)
  'demo-data': {
    usage: 'cloister demo-data [--seed N] [--count N] OUT',
    summary: 'write deterministic synthetic insurance claims (invented names, phones, SSNs, addresses) as text files for cloister seal',
    load: () => import('./demo-data/demo-data-command.ts'),
  },
  // runtime: the confidential channel (client commands in client/cli/, the local stack in scripts/)
  up: {
    usage: 'cloister up [--port N] [--model-port N] [--data-dir DIR]',
    summary: 'start the local stack (enclave + host) in the foreground; prints `ready URL`',
    load: () => import('./up.ts'),
  },
  demo: {
    usage: 'cloister demo [--url URL] [--json] [--data-dir DIR]',
    summary: 'ask claims-rag a question through the SDK (a new stack, or --url a running one); print the verified answer, receipt and audit record',
    load: () => import('./demo.ts'),
  },
  'attest fetch': {
    usage: 'cloister attest fetch --url URL [--trust FILE] [--api-key K] [--json]',
    summary: 'fetch an attestation with a fresh nonce, verify it against the trust file, print it',
    load: () => import('../client/cli/attest-fetch.ts'),
  },
  invoke: {
    usage: 'cloister invoke --url URL [--trust FILE] [--token T] [--api-key K] [--json] [--evidence FILE] WORKFLOW INPUT_JSON',
    summary: 'run a workflow through the confidential channel and verify its receipt',
    load: () => import('../client/cli/invoke.ts'),
  },
  // test mode (client/cli/workflow-test.ts): a draft through the confidential channel
  'workflow test': {
    usage: 'cloister workflow test --url URL [--trust FILE] [--token T] [--api-key K] [--json] FILE INPUT_JSON',
    summary: 'test-run a draft workflow document (JSON or YAML) in the enclave, for its author only, on test collections; prints per-node traces',
    load: () => import('../client/cli/workflow-test.ts'),
  },
  'receipt verify': {
    usage: 'cloister receipt verify FILE [--trust FILE] [--json]',
    summary: 'check evidence {attestation, receipt, request, output} offline at the receipt time',
    load: () => import('../client/cli/receipt-verify.ts'),
  },
  // runs: reading a run's status, events and output, sealed (enclave/runs, host/runs, client/cli/run-*.ts; token from --token or CLOISTER_TOKEN)
  'run show': {
    usage: 'cloister run show --url URL [--trust FILE] [--token T] [--api-key K] [--json] RUN_ID',
    summary: "print a run's status, times, events and output, as the enclave answers the run's owner (or an auditor)",
    load: () => import('../client/cli/run-show.ts'),
  },
  'run events': {
    usage: 'cloister run events --url URL [--trust FILE] [--token T] [--api-key K] [--json] RUN_ID',
    summary: "print a run's events as they happen (live while it runs), verifying the sealed stream's order and end",
    load: () => import('../client/cli/run-events.ts'),
  },
  // redaction
  redact: {
    usage: 'cloister redact [--jsonl] [--entities LIST] [--threshold X]',
    summary: 'detect PII in text on stdin; prints {spans, redacted}, or with --jsonl one {id, spans} per {id, text} line',
    load: () => import('./redact.ts'),
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
