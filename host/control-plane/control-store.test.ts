import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlStore, NewControlEvent } from './control-store.ts';
import { createMemoryControlStore } from './memory-control-store.ts';
import { createSqliteControlStore } from './sqlite-control-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'cloister-control-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

const backends: [string, () => ControlStore][] = [
  ['memory', () => createMemoryControlStore()],
  ['sqlite', () => createSqliteControlStore({ path: join(dir, `store-${counter++}.db`) })],
];

const event = (type: NewControlEvent['type'], digest = 'a'.repeat(64)): NewControlEvent => ({ type, actor: 'key:0', at: '2026-01-01T00:00:00.000Z', digest });
const draft = (name: string, version = '1.0.0') => ({ name, version, document: `{"name":"${name}"}`, digest: 'a'.repeat(64), event: event('workflow_created') });

describe.each(backends)('the %s control store', (_name, make) => {
  it('keeps a created draft with its first history event', async () => {
    const store = make();
    await store.create(draft('alpha'));
    const row = await store.read('alpha', '1.0.0');
    expect(row).toEqual({
      name: 'alpha',
      version: '1.0.0',
      document: '{"name":"alpha"}',
      digest: 'a'.repeat(64),
      state: 'draft',
      revision: 1,
      reviews: [],
      history: [{ seq: 0, ...event('workflow_created') }],
    });
    expect(await store.read('alpha', '2.0.0')).toBeNull();
    await store.close();
  });

  it('refuses to create a version twice', async () => {
    const store = make();
    await store.create(draft('alpha'));
    await expect(store.create(draft('alpha'))).rejects.toMatchObject({ code: 'ERR_CONTROL_CONFLICT' });
    await store.close();
  });

  it('applies a change only at the expected revision and appends history and reviews in order', async () => {
    const store = make();
    await store.create(draft('alpha'));
    await store.update('alpha', '1.0.0', 1, { state: 'in_review', events: [event('workflow_submitted')] });
    await expect(store.update('alpha', '1.0.0', 1, { state: 'draft', events: [event('workflow_edited')] })).rejects.toMatchObject({ code: 'ERR_CONTROL_CONFLICT' });
    await store.update('alpha', '1.0.0', 2, { state: 'approved', review: 'r1', events: [{ ...event('workflow_reviewed'), reviewer: 'rita', decision: 'approve' }, event('workflow_approved')] });
    const row = await store.read('alpha', '1.0.0');
    expect(row?.state).toBe('approved');
    expect(row?.revision).toBe(3);
    expect(row?.reviews).toEqual(['r1']);
    expect(row?.history.map((e) => [e.seq, e.type])).toEqual([
      [0, 'workflow_created'],
      [1, 'workflow_submitted'],
      [2, 'workflow_reviewed'],
      [3, 'workflow_approved'],
    ]);
    expect(row?.history[2]).toMatchObject({ reviewer: 'rita', decision: 'approve' });
    await store.close();
  });

  it('replaces a document and digest on an edit', async () => {
    const store = make();
    await store.create(draft('alpha'));
    await store.update('alpha', '1.0.0', 1, { state: 'draft', document: { text: '{"x":1}', digest: 'b'.repeat(64) }, events: [event('workflow_edited', 'b'.repeat(64))] });
    expect(await store.read('alpha', '1.0.0')).toMatchObject({ document: '{"x":1}', digest: 'b'.repeat(64) });
    await store.close();
  });

  it('lists versions sorted by name then version and filters by state', async () => {
    const store = make();
    await store.create(draft('beta'));
    await store.create(draft('alpha', '1.1.0'));
    await store.create(draft('alpha', '1.0.0'));
    await store.update('beta', '1.0.0', 1, { state: 'in_review', events: [event('workflow_submitted')] });
    expect((await store.list()).map((w) => `${w.name}@${w.version}:${w.state}`)).toEqual(['alpha@1.0.0:draft', 'alpha@1.1.0:draft', 'beta@1.0.0:in_review']);
    expect((await store.listInState('in_review')).map((w) => w.name)).toEqual(['beta']);
    await store.close();
  });

  it('returns copies that cannot change what is stored', async () => {
    const store = make();
    await store.create(draft('alpha'));
    const row = await store.read('alpha', '1.0.0');
    (row!.history as unknown as unknown[]).push('forged');
    expect((await store.read('alpha', '1.0.0'))?.history).toHaveLength(1);
    await store.close();
  });

  it('refuses calls after close', async () => {
    const store = make();
    await store.close();
    await expect(store.list()).rejects.toMatchObject({ code: 'ERR_CONTROL_STORE_UNAVAILABLE' });
  });
});

describe('the SQLite control store', () => {
  it('keeps workflows across reopening the file', async () => {
    const path = join(dir, 'reopen.db');
    const first = createSqliteControlStore({ path });
    await first.create(draft('alpha'));
    await first.close();
    const second = createSqliteControlStore({ path });
    expect((await second.read('alpha', '1.0.0'))?.history).toHaveLength(1);
    await second.close();
  });

  it('refuses a database path it cannot open without naming the path', () => {
    expect(() => createSqliteControlStore({ path: join(dir, 'missing', 'deeper', 'x.db') })).toThrow(
      expect.objectContaining({ code: 'ERR_CONTROL_CONFIG', message: expect.not.stringContaining(dir) }),
    );
  });
});
