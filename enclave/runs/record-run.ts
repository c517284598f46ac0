/**
 * Runs one launched-workflow invocation under the recorder: the engine reports to the recording
 * as it goes, and the result stands only once the history has landed. A history that could not be
 * stored turns the result into a failure with the store's error (no output, no receipt), exactly
 * as an audit record that did not land would.
 */
import { InternalError, isCloisterError } from '../../protocol/cloister-error.ts';
import type { RunObserver, RunResult } from '../workflow/types.ts';
import type { RunRecorder } from './create-run-recorder.ts';
import type { RunWorkflow } from './run-log.ts';

export async function recordRun(
  recorder: RunRecorder,
  run: { readonly runId: string; readonly workflow: RunWorkflow; readonly test: boolean },
  execute: (observer: RunObserver) => Promise<RunResult>,
): Promise<RunResult> {
  const recording = recorder.begin(run);
  let result: RunResult;
  try {
    result = await execute(recording.observer);
  } catch (error) {
    // The engine returns failures rather than throwing; if it ever throws, the run still ends
    // (readers waiting on it are released) before the error goes on.
    const typed = isCloisterError(error) ? error : new InternalError({ cause: error });
    await recording.finish({ runId: run.runId, status: 'failed', output: undefined, error: typed } as RunResult).catch(() => undefined);
    throw error;
  }
  try {
    await recording.finish(result);
    return result;
  } catch (error) {
    const typed = isCloisterError(error) ? error : new InternalError({ cause: error });
    return Object.freeze({ ...result, status: 'failed' as const, output: undefined, error: typed });
  }
}
