/**
 * `cloister measure [--json]`: the PCRs a client should pin for this build (see
 * docs/measurements.md). The enclave's simulated NSM reports the same values at boot.
 */
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../client/cli/cli-io.ts';
import { measureBuild } from '../enclave/measure-build.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError('measure takes no arguments');
  const m = measureBuild();
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
