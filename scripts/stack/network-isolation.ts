/**
 * Running the enclave process without a network (DESIGN §3.4): in a fresh network namespace
 * (`unshare -n`, or `unshare -r -n` through a user namespace when not root). The namespace has
 * only a loopback interface that is down, so every outbound connection fails; the Unix socket
 * to the host still works because it is a file, not a network address.
 *
 * Whether the OS allows it is probed, never assumed: containers and hardened kernels often
 * refuse namespaces, and then the stack runs with a warning instead.
 */
import { spawnSync } from 'node:child_process';

export type IsolationMode = 'netns' | 'netns-user' | 'none';

export interface IsolationProbe {
  readonly mode: IsolationMode;
  /** Why isolation is unavailable (for the warning), when `mode` is 'none'. */
  readonly reason?: string;
}

const attempts: readonly { mode: Exclude<IsolationMode, 'none'>; flags: readonly string[] }[] = [
  { mode: 'netns', flags: ['-n'] },
  { mode: 'netns-user', flags: ['-r', '-n'] },
];

export function probeNetworkIsolation(): IsolationProbe {
  if (process.platform !== 'linux') return { mode: 'none', reason: `network namespaces need Linux (this is ${process.platform})` };
  let reason = 'unshare is not installed';
  for (const attempt of attempts) {
    const result = spawnSync('unshare', [...attempt.flags, '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
    if (result.status === 0) return { mode: attempt.mode };
    if (result.error === undefined) reason = `unshare ${attempt.flags.join(' ')} failed: ${result.stderr.toString('utf8').trim().slice(0, 200)}`;
  }
  return { mode: 'none', reason };
}

/** The command line that runs `command args` under the given isolation. */
export function isolatedCommand(mode: IsolationMode, command: string, args: readonly string[]): [string, string[]] {
  switch (mode) {
    case 'netns':
      return ['unshare', ['-n', '--', command, ...args]];
    case 'netns-user':
      return ['unshare', ['-r', '-n', '--', command, ...args]];
    case 'none':
      return [command, [...args]];
  }
}
