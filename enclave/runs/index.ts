/** Runs in the enclave (docs/runs.md): the sealed history of each run, and the gate that reads it. */
export { createRunReads, runView, type RunReads, type RunReadsOptions } from './create-run-reads.ts';
export { createRunRecorder, type RunRecorder, type RunRecorderOptions, type RunRecording } from './create-run-recorder.ts';
export { createMemoryRunLogStore, DEFAULT_MEMORY_RUNS, type RunLogStore } from './memory-run-log-store.ts';
export { recordRun } from './record-run.ts';
export { encodeRunLogEntry, replayRunLog, type RecordedRun, type RunLogEntry, type RunOwner, type RunWorkflow } from './run-log.ts';
export { HEARTBEAT, withHeartbeats } from './with-heartbeats.ts';
export {
  RunAlreadyRecordedError,
  RunIdMismatchError,
  RunLogInvalidError,
  RunNotFoundError,
  RunNotLiveError,
  RunRecordError,
  type RunRecordErrorCode,
} from './errors.ts';
