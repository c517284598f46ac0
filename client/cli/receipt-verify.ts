/** `cloister receipt verify FILE [--trust FILE] [--json]`: offline check of `{attestation, receipt, request, output}`. */
import { readFileSync } from 'node:fs';
import { EvidenceInvalidError } from '../errors.ts';
import { evidenceFromJson, verifyEvidence } from '../verify-evidence.ts';
import { CloisterError } from '../../protocol/cloister-error.ts';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { readTrustFile } from './trust-file.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    trust: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('give the evidence FILE');
  const json = values.json === true;
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(positionals[0]!, 'utf8'));
    } catch {
      throw new EvidenceInvalidError({ reason: 'cannot read the file as JSON' });
    }
    const verified = await verifyEvidence(evidenceFromJson(parsed), readTrustFile(values.trust));
    const { claims } = verified;
    if (json) {
      writeJson(io.stdout, { valid: true, run: claims.run, workflow: claims.workflow, policy: claims.policy, request: claims.request, output: claims.output, audit: claims.audit, at: new Date(claims.at).toISOString(), moduleId: verified.moduleId, pcrs: verified.pcrs });
    } else {
      io.stdout.write(
        `valid: run ${claims.run} of ${claims.workflow.name}@${claims.workflow.version} at ${new Date(claims.at).toISOString()}\n` +
          `  policy ${claims.policy}\n  request ${claims.request}\n  output ${claims.output}\n  audit seq ${claims.audit.seq} ${claims.audit.hash}\n  enclave ${verified.moduleId}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    // Like `attest verify`: with --json, a negative answer is `{valid: false, error}` on stdout.
    if (json && error instanceof CloisterError) {
      writeJson(io.stdout, { valid: false, error: { code: error.code, message: error.message } });
      return EXIT_FAILURE;
    }
    return reportError(io, error, json);
  }
}
