/**
 * The control store in SQLite (better-sqlite3), for one machine (DESIGN §10). Its tables are
 * prefixed `control_` and it keeps its schema version in its own table, so it can live in its
 * own file under the data directory or share one with the blob store. Every change runs in a
 * `BEGIN IMMEDIATE` transaction with a compare-and-set on the revision, so host processes
 * sharing the file serialise on SQLite's write lock.
 */
import Database from 'better-sqlite3';
import type { ControlEvent, ControlEventType, WorkflowSummary } from '../../protocol/workflows/control-api.ts';
import type { WorkflowState } from '../../protocol/workflows/lifecycle.ts';
import type { ControlStore, NewControlEvent, NewWorkflow, StoredWorkflow, WorkflowChange } from './control-store.ts';
import { ControlConfigError, ControlConflictError, ControlError, ControlStoreUnavailableError } from './errors.ts';

export interface SqliteControlStoreOptions {
  /** The database file (created if missing); `:memory:` for a private in-memory database. */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

const schemaVersion = 1;

const schema = `
CREATE TABLE IF NOT EXISTS control_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS control_workflows (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  document TEXT NOT NULL,
  digest TEXT NOT NULL,
  state TEXT NOT NULL,
  revision INTEGER NOT NULL CHECK (revision > 0),
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS control_reviews (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  position INTEGER NOT NULL,
  review TEXT NOT NULL,
  PRIMARY KEY (name, version, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS control_events (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  digest TEXT NOT NULL,
  reviewer TEXT,
  decision TEXT,
  PRIMARY KEY (name, version, seq)
) WITHOUT ROWID;
`;

interface WorkflowRow {
  name: string;
  version: string;
  document: string;
  digest: string;
  state: string;
  revision: number;
}

interface EventRow {
  seq: number;
  type: string;
  actor: string;
  at: string;
  digest: string;
  reviewer: string | null;
  decision: string | null;
}

export function createSqliteControlStore(options: SqliteControlStoreOptions): ControlStore {
  if (typeof options?.path !== 'string' || options.path.length === 0) throw new ControlConfigError({ setting: 'path', reason: 'must be a non-empty string' });
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new ControlConfigError({ setting: 'busyTimeoutMs', reason: 'must be a non-negative integer' });

  let opened: Database.Database | undefined;
  try {
    opened = new Database(options.path);
    opened.pragma(`busy_timeout = ${busyTimeoutMs}`);
    opened.pragma('journal_mode = WAL');
    opened.pragma('synchronous = FULL');
    opened.exec(schema);
    const found = opened.prepare<[], { version: number }>('SELECT MAX(version) AS version FROM control_schema').get()?.version ?? null;
    if (found === null) opened.prepare('INSERT INTO control_schema (version) VALUES (?)').run(schemaVersion);
    else if (found > schemaVersion) throw new ControlConfigError({ setting: 'path', reason: `the database has control schema ${found}, newer than this build's ${schemaVersion}` });
  } catch (error) {
    opened?.close();
    if (error instanceof ControlConfigError) throw error;
    // The driver's message may name the path; keep it as the cause only.
    throw new ControlConfigError({ setting: 'path', reason: 'the database could not be opened', cause: error });
  }
  const db = opened;

  const insertWorkflow = db.prepare(
    "INSERT INTO control_workflows (name, version, document, digest, state, revision) VALUES (?, ?, ?, ?, 'draft', 1) ON CONFLICT DO NOTHING",
  );
  const selectWorkflow = db.prepare<[string, string], WorkflowRow>('SELECT * FROM control_workflows WHERE name = ? AND version = ?');
  const selectAll = db.prepare<[], WorkflowRow>('SELECT * FROM control_workflows ORDER BY name, version');
  const selectInState = db.prepare<[string], WorkflowRow>('SELECT * FROM control_workflows WHERE state = ? ORDER BY name, version');
  const updateWorkflow = db.prepare(
    'UPDATE control_workflows SET state = ?, document = ?, digest = ?, revision = revision + 1 WHERE name = ? AND version = ? AND revision = ?',
  );
  const selectReviews = db.prepare<[string, string], { review: string }>('SELECT review FROM control_reviews WHERE name = ? AND version = ? ORDER BY position');
  const countReviews = db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM control_reviews WHERE name = ? AND version = ?');
  const insertReview = db.prepare('INSERT INTO control_reviews (name, version, position, review) VALUES (?, ?, ?, ?)');
  const selectEvents = db.prepare<[string, string], EventRow>(
    'SELECT seq, type, actor, at, digest, reviewer, decision FROM control_events WHERE name = ? AND version = ? ORDER BY seq',
  );
  const countEvents = db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM control_events WHERE name = ? AND version = ?');
  const insertEvent = db.prepare(
    'INSERT INTO control_events (name, version, seq, type, actor, at, digest, reviewer, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );

  const appendEvents = (name: string, version: string, events: readonly NewControlEvent[]) => {
    let seq = countEvents.get(name, version)?.n ?? 0;
    for (const e of events) {
      insertEvent.run(name, version, seq++, e.type, e.actor, e.at, e.digest, e.reviewer ?? null, e.decision ?? null);
    }
  };

  const create = db.transaction((w: NewWorkflow) => {
    if (insertWorkflow.run(w.name, w.version, w.document, w.digest).changes !== 1) throw new ControlConflictError();
    appendEvents(w.name, w.version, [w.event]);
  });

  const update = db.transaction((name: string, version: string, expectedRevision: number, change: WorkflowChange) => {
    const row = selectWorkflow.get(name, version);
    if (!row) throw new ControlConflictError();
    const text = change.document?.text ?? row.document;
    const digest = change.document?.digest ?? row.digest;
    if (updateWorkflow.run(change.state, text, digest, name, version, expectedRevision).changes !== 1) throw new ControlConflictError();
    if (change.review !== undefined) insertReview.run(name, version, countReviews.get(name, version)?.n ?? 0, change.review);
    appendEvents(name, version, change.events);
  });

  const whole = (row: WorkflowRow): StoredWorkflow => ({
    name: row.name,
    version: row.version,
    document: row.document,
    digest: row.digest,
    state: row.state as WorkflowState,
    revision: row.revision,
    reviews: selectReviews.all(row.name, row.version).map((r) => r.review),
    history: selectEvents.all(row.name, row.version).map(toEvent),
  });
  const readWhole = db.transaction((name: string, version: string) => {
    const row = selectWorkflow.get(name, version);
    return row ? whole(row) : null;
  });
  const readInState = db.transaction((state: string) => selectInState.all(state).map(whole));

  let closed = false;
  const guard = <T>(fn: () => T): Promise<T> => {
    if (closed) return Promise.reject(new ControlStoreUnavailableError());
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(translate(error));
    }
  };

  return {
    create: (workflow) => guard(() => create.immediate(workflow)),
    read: (name, version) => guard(() => readWhole(name, version)),
    list: () =>
      guard(() => selectAll.all().map(({ name, version, digest, state }): WorkflowSummary => ({ name, version, digest, state: state as WorkflowState }))),
    listInState: (state) => guard(() => readInState(state)),
    update: (name, version, expectedRevision, change) => guard(() => update.immediate(name, version, expectedRevision, change)),
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function toEvent(row: EventRow): ControlEvent {
  return {
    seq: row.seq,
    type: row.type as ControlEventType,
    actor: row.actor,
    at: row.at,
    digest: row.digest,
    ...(row.reviewer !== null ? { reviewer: row.reviewer } : {}),
    ...(row.decision === 'approve' || row.decision === 'reject' ? { decision: row.decision } : {}),
  };
}

function translate(error: unknown): unknown {
  if (error instanceof ControlError) return error;
  if (error instanceof Database.SqliteError) return new ControlStoreUnavailableError({ cause: error });
  return error;
}
