/** What the host keeps and serves of runs (docs/runs.md): status and times only, and the sealed read routes. */
export { createRunIndex, type RunIndex, type RunIndexEntry } from './create-run-index.ts';
export { addRunRoutes, EVENT_STREAM_MEDIA_TYPE, MAX_READ_REQUEST_BYTES, READ_REQUEST_HEADER, type RunRoutesOptions } from './run-routes.ts';
