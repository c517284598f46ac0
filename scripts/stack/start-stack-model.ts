/**
 * The dev model server of `cloister up`, on a fixed port by default. Its URL goes into the
 * development policy bundle (the `dev-model` integration and the egress allowlist), which the
 * enclave loads and PCR2 (and so PCR0) measures: a port that changed on every `up` would change
 * the PCRs on every `up`, and a client's pinned trust.json would go stale with each restart. With
 * the same data directory and the same options, two `up`s give the same PCRs.
 *
 * The default port is the one the shipped bundle (`policies/default`) already names, so the
 * development bundle differs from it only in its keys. `port: 0` picks a free port (tests and
 * benchmarks, where a fresh data directory is measured anyway). When the measurements do change
 * (another port, another checkout or Node version), `up` says which, so nobody is surprised by a
 * client refusing a stale trust.json.
 */
import { startDevModelServer, type DevModelServer } from '../dev-model/dev-model-server.ts';
import type { TrustFile } from './start-stack.ts';
import { ModelPortInUseError } from './errors.ts';

/** The dev model server's port unless `--model-port` says otherwise: `policies/default` names `127.0.0.1:4010`. */
export const DEFAULT_MODEL_PORT = 4010;

/**
 * The port to ask for, from `cloister up`'s options: `--model-port` when given (chosen), else
 * DEFAULT_MODEL_PORT, else 0 when the host's port is 0 too (everything ephemeral). `port` is the
 * host's; its default (8080) is not 0.
 */
export function stackModelPort(options: { readonly port?: number; readonly modelPort?: number }): { readonly port: number; readonly chosen: boolean } {
  if (options.modelPort !== undefined) return { port: options.modelPort, chosen: true };
  return { port: options.port === 0 ? 0 : DEFAULT_MODEL_PORT, chosen: false };
}

export interface StackModelOptions {
  readonly dataDir: string;
  /** The port asked for; 0 picks a free one. */
  readonly port: number;
  /**
   * Whether the user chose the port. A chosen port that is taken is an error; the default port
   * that is taken falls back to a free port, with a warning that the measurements change.
   */
  readonly chosen: boolean;
  readonly log: (line: string) => void;
}

export async function startStackModel(options: StackModelOptions): Promise<DevModelServer> {
  try {
    return await startDevModelServer({ dataDir: options.dataDir, port: options.port });
  } catch (error) {
    if (options.port === 0 || (error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
    if (options.chosen) throw new ModelPortInUseError({ port: options.port });
  }
  const model = await startDevModelServer({ dataDir: options.dataDir, port: 0 });
  options.log(
    `[up] WARNING: port ${options.port} is taken, so the dev model server listens on ${model.port} instead. Its URL is in the policy bundle: ` +
      `PCR0, PCR2 and the policy digest differ from a run on port ${options.port}, and a pinned trust.json must be refreshed (or free the port, or pass --model-port)`,
  );
  return model;
}

/**
 * What changed between the trust.json of the previous start and this one, as a line for the log,
 * or undefined when nothing a client pins changed (or there was no previous start).
 */
export function describeTrustChange(previous: TrustFile | undefined, next: TrustFile): string | undefined {
  if (!previous) return undefined;
  const changed = [
    ...(['0', '1', '2'] as const).filter((i) => previous.pcrs?.[i] !== next.pcrs[i]).map((i) => `PCR${i}`),
    ...(previous.policyDigest !== next.policyDigest ? ['the policy digest'] : []),
    ...(previous.rootPem !== next.rootPem ? ['the attestation root'] : []),
  ];
  if (changed.length === 0) return undefined;
  return `[up] NOTE: ${changed.join(', ')} changed since the last start with this data directory: clients must pin the new trust.json`;
}
