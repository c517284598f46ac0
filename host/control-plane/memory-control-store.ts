/** The control store in memory: tests and a throwaway dev host. Same contract as SQLite. */
import type { ControlEvent } from '../../protocol/workflows/control-api.ts';
import type { ControlStore, StoredWorkflow } from './control-store.ts';
import { ControlConflictError, ControlStoreUnavailableError } from './errors.ts';

export function createMemoryControlStore(): ControlStore {
  const rows = new Map<string, StoredWorkflow>();
  let closed = false;
  const keyOf = (name: string, version: string) => `${name}@${version}`;
  const open = () => {
    if (closed) throw new ControlStoreUnavailableError();
  };
  const sorted = () => [...rows.values()].sort((a, b) => compare(a.name, b.name) || compare(a.version, b.version));
  // Callers get copies: nothing they do to a result can change the store.
  const copy = (w: StoredWorkflow): StoredWorkflow => structuredClone(w);

  return {
    async create(workflow) {
      open();
      const key = keyOf(workflow.name, workflow.version);
      if (rows.has(key)) throw new ControlConflictError();
      rows.set(key, {
        name: workflow.name,
        version: workflow.version,
        document: workflow.document,
        digest: workflow.digest,
        state: 'draft',
        revision: 1,
        reviews: [],
        history: [{ seq: 0, ...workflow.event }],
      });
    },
    async read(name, version) {
      open();
      const row = rows.get(keyOf(name, version));
      return row ? copy(row) : null;
    },
    async list() {
      open();
      return sorted().map(({ name, version, digest, state }) => ({ name, version, digest, state }));
    },
    async listInState(state) {
      open();
      return sorted()
        .filter((w) => w.state === state)
        .map(copy);
    },
    async update(name, version, expectedRevision, change) {
      open();
      const key = keyOf(name, version);
      const row = rows.get(key);
      if (!row || row.revision !== expectedRevision) throw new ControlConflictError();
      const history: ControlEvent[] = [...row.history, ...change.events.map((e, i) => ({ seq: row.history.length + i, ...e }))];
      rows.set(key, {
        ...row,
        state: change.state,
        document: change.document?.text ?? row.document,
        digest: change.document?.digest ?? row.digest,
        revision: row.revision + 1,
        reviews: change.review === undefined ? row.reviews : [...row.reviews, change.review],
        history,
      });
    },
    async close() {
      closed = true;
    },
  };
}

/** Byte order of UTF-16 code units, as SQLite's BINARY collation on ASCII names. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
