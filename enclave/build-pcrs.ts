/**
 * The PCRs this enclave build reports (PCR0 image, PCR1 runtime, PCR2 application and policy
 * bundle), as the simulated NSM wants them. The measurement itself is `measure-build.ts`.
 */
import { measureBuild } from './measure-build.ts';

export async function buildPcrs(): Promise<Record<0 | 1 | 2, string>> {
  const m = await measureBuild();
  return { 0: m.pcr0, 1: m.pcr1, 2: m.pcr2 };
}
