/**
 * `cloister measure [--json] [--policy-bundle DIR]`: the PCRs a client should pin for this build
 * with that policy bundle (default policies/default; see docs/measurements.md). The enclave's
 * simulated NSM reports the same values at boot with the same `--policy-bundle`.
 */
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../client/cli/cli-io.ts';
import { measureBuild } from '../enclave/measure-build.ts';
import { readPolicyBundleDir } from '../protocol/read-policy-bundle-dir.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, 'policy-bundle': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError('measure takes no arguments');
  const bundleDir = values['policy-bundle'];
  const m = measureBuild(undefined, bundleDir ? { bundle: await readPolicyBundleDir(bundleDir) } : {});
  if (values.json) {
    writeJson(io.stdout, {
      pcrs: { '0': m.pcr0, '1': m.pcr1, '2': m.pcr2 },
      runtime: { node: m.node, platform: m.platform },
      applicationFiles: m.applicationFiles,
    });
  } else {
    io.stdout.write(
      `PCR0 ${m.pcr0}\nPCR1 ${m.pcr1}\nPCR2 ${m.pcr2}\n` +
        `(node ${m.node}, ${m.platform}, ${m.applicationFiles} application files; pin with: cloister attest verify FILE --pcr 0=… --pcr 1=… --pcr 2=…)\n`,
    );
  }
  return EXIT_OK;
}
