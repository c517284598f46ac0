/**
 * A supervised child of the local stack. A child announces that it can serve by printing a
 * line `ready ADDRESS` on stdout; every other line is handed to `onLine` (the stack prefixes
 * and relays them). Stopping sends SIGTERM and, if the child has not exited in time, SIGKILL.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ChildNotReadyError } from './errors.ts';

export interface ChildOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** How long to wait for the ready line before giving up (default 60 s). */
  readonly readyTimeoutMs?: number;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** The address from the ready line; rejects if the child exits or times out first. */
  readonly ready: Promise<string>;
  readonly exited: Promise<ChildExit>;
  stop(timeoutMs?: number): Promise<ChildExit>;
}

const readyPattern = /^ready (\S+)$/;

export function startChild(options: ChildOptions): ChildHandle {
  // Its own process group, so a Ctrl-C in the terminal reaches only the supervisor, which then
  // stops the children in order. stdin is a pipe the child watches: when the supervisor dies,
  // however it dies, the pipe closes and the child exits too (CLOISTER_EXIT_WITH_PARENT).
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: { ...(options.env ?? process.env), CLOISTER_EXIT_WITH_PARENT: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin.on('error', () => {});
  let exitInfo: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', () => {
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ChildNotReadyError({ name: options.name, reason: 'timed out' })), options.readyTimeoutMs ?? 60_000);
    timer.unref();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = readyPattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      } else options.onLine?.('stdout', line);
    });
    void exited.then((info) => {
      clearTimeout(timer);
      reject(new ChildNotReadyError({ name: options.name, reason: `exited first (code ${info.code}, signal ${info.signal})` }));
    });
  });
  ready.catch(() => {}); // observed by callers that care; never an unhandled rejection
  createInterface({ input: child.stderr }).on('line', (line) => options.onLine?.('stderr', line));
  return {
    name: options.name,
    pid: child.pid ?? -1,
    ready,
    exited,
    async stop(timeoutMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      timer.unref();
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}
