/**
 * The PCRs this enclave build reports (PCR0 image, PCR1 runtime, PCR2 application and policy
 * bundle), as the simulated NSM wants them. The measurement itself is `measure-build.ts`.
 */
import { measureBuild, type MeasureBuildOptions } from './measure-build.ts';

/** `bundle`: the policy bundle's files as loaded (PCR2 measures the bundle in force). */
export async function buildPcrs(bundle?: MeasureBuildOptions['bundle']): Promise<Record<0 | 1 | 2, string>> {
  const m = measureBuild(undefined, bundle ? { bundle } : {});
  return { 0: m.pcr0, 1: m.pcr1, 2: m.pcr2 };
}
