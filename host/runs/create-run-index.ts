/**
 * What the host knows of runs (docs/runs.md, "What the host sees"): the id, the workflow's name,
 * the status and when it changed, as the enclave told it on the host-services channel. Nothing
 * else reaches the host in the clear, so nothing else is stored here: no owner, no event, no
 * output. The index is for operators (and `/metrics`); it never answers a caller's read — those
 * go to the enclave, which alone can say who may read what.
 *
 * Status only moves forward: a notice that arrives after the run ended (a late `running`) does
 * not reopen it. Every notice is kept as a status change with its time.
 */
import Database from 'better-sqlite3';
import { Counter, type Registry } from 'prom-client';
import { TERMINAL_RUN_STATUSES, type RunStatus } from '../../protocol/run-messages.ts';
import type { RunStatusNotice } from '../../protocol/run-status-notice.ts';
import { HostConfigError } from '../errors.ts';

export interface RunIndexEntry {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly updatedAt: number;
  readonly changes: readonly { readonly status: RunStatus; readonly at: number }[];
}

export interface RunIndex {
  record(notice: RunStatusNotice): void;
  get(runId: string): RunIndexEntry | undefined;
  close(): void;
}

const schema = `
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS run_status_changes (
  run_id TEXT NOT NULL,
  status TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS run_status_changes_run ON run_status_changes (run_id);
`;

/**
 * `path`: a SQLite file (`DATA_DIR/host/runs.sqlite`), or `:memory:` for tests. With `registry`,
 * `cloister_host_run_status_changes_total{status}` counts the notices recorded.
 */
export function createRunIndex(options: { readonly path: string; readonly registry?: Registry }): RunIndex {
  const changesTotal = options.registry
    ? new Counter({
        name: 'cloister_host_run_status_changes_total',
        help: 'Run status changes the enclave reported, by status',
        labelNames: ['status'] as const,
        registers: [options.registry],
      })
    : undefined;
  let db: Database.Database;
  try {
    db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    db.exec(schema);
  } catch (cause) {
    throw new HostConfigError({ setting: 'runs', reason: `the run index could not be opened (${cause instanceof Error && 'code' in cause ? String(cause.code) : 'error'})` });
  }
  const insertChange = db.prepare('INSERT INTO run_status_changes (run_id, status, at) VALUES (?, ?, ?)');
  const select = db.prepare('SELECT run_id, workflow, status, started_at, ended_at, updated_at FROM runs WHERE run_id = ?');
  const insertRun = db.prepare('INSERT INTO runs (run_id, workflow, status, started_at, ended_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const updateRun = db.prepare('UPDATE runs SET status = ?, ended_at = ?, updated_at = ? WHERE run_id = ?');
  const changes = db.prepare('SELECT status, at FROM run_status_changes WHERE run_id = ? ORDER BY at, rowid');

  type Row = { run_id: string; workflow: string; status: RunStatus; started_at: number; ended_at: number | null; updated_at: number };

  const record = db.transaction((notice: RunStatusNotice) => {
    const terminal = TERMINAL_RUN_STATUSES.has(notice.status);
    insertChange.run(notice.runId, notice.status, notice.at);
    const row = select.get(notice.runId) as Row | undefined;
    if (!row) {
      insertRun.run(notice.runId, notice.workflow, notice.status, notice.at, terminal ? notice.at : null, notice.at);
      return;
    }
    if (TERMINAL_RUN_STATUSES.has(row.status)) return;
    updateRun.run(notice.status, terminal ? notice.at : null, Math.max(row.updated_at, notice.at), notice.runId);
  });

  return {
    record(notice) {
      record(notice);
      changesTotal?.inc({ status: notice.status });
    },
    get(runId) {
      const row = select.get(runId) as Row | undefined;
      if (!row) return undefined;
      return {
        runId: row.run_id,
        workflow: row.workflow,
        status: row.status,
        startedAt: row.started_at,
        endedAt: row.ended_at,
        updatedAt: row.updated_at,
        changes: (changes.all(runId) as { status: RunStatus; at: number }[]).map((c) => ({ status: c.status, at: c.at })),
      };
    },
    close: () => db.close(),
  };
}
