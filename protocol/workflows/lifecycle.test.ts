import { describe, expect, it } from 'vitest';
import { WorkflowDigestMismatchError, WorkflowInvalidError, WorkflowTransitionError } from './errors.ts';
import {
  canTransition,
  initialLifecycle,
  transitionWorkflow,
  workflowStates,
  workflowTransitions,
  type LifecycleEvent,
  type WorkflowLifecycle,
} from './lifecycle.ts';

const digest = 'a'.repeat(64);
const other = 'b'.repeat(64);

function run(...events: LifecycleEvent[]): WorkflowLifecycle {
  return events.reduce(transitionWorkflow, initialLifecycle);
}

describe('transitionWorkflow', () => {
  it('walks draft → in_review → approved → launched ⇄ paused → stopped', () => {
    const states = [initialLifecycle];
    const events: LifecycleEvent[] = [
      { type: 'submit', digest },
      { type: 'approve', digest },
      { type: 'launch', digest },
      { type: 'pause' },
      { type: 'resume' },
      { type: 'pause' },
      { type: 'stop' },
    ];
    for (const event of events) states.push(transitionWorkflow(states.at(-1)!, event));
    expect(states.map((s) => s.state)).toEqual(['draft', 'in_review', 'approved', 'launched', 'paused', 'launched', 'paused', 'stopped']);
    expect(states.at(-1)!.digest).toBe(digest);
  });

  it('pins the digest at submission', () => {
    expect(run({ type: 'submit', digest })).toEqual({ state: 'in_review', digest });
    expect(initialLifecycle.digest).toBeNull();
  });

  it('ends a rejected review in rejected, from which nothing follows', () => {
    const rejected = run({ type: 'submit', digest }, { type: 'reject', digest });
    expect(rejected.state).toBe('rejected');
    for (const event of ['launch', 'approve', 'submit'] as const) {
      expect(() => transitionWorkflow(rejected, { type: event, digest })).toThrow(WorkflowTransitionError);
    }
  });

  it('refuses an approval for a digest other than the pinned one', () => {
    const inReview = run({ type: 'submit', digest });
    expect(() => transitionWorkflow(inReview, { type: 'approve', digest: other })).toThrow(WorkflowDigestMismatchError);
    expect(() => transitionWorkflow(inReview, { type: 'reject', digest: other })).toThrow(WorkflowDigestMismatchError);
  });

  it('refuses to launch a digest other than the approved one', () => {
    const approved = run({ type: 'submit', digest }, { type: 'approve', digest });
    try {
      transitionWorkflow(approved, { type: 'launch', digest: other });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WorkflowDigestMismatchError);
      expect((error as WorkflowDigestMismatchError).category).toBe('security');
    }
  });

  it('refuses a digest that is not a SHA-256 hex string', () => {
    expect(() => transitionWorkflow(initialLifecycle, { type: 'submit', digest: 'A'.repeat(64) })).toThrow(WorkflowInvalidError);
  });

  it('refuses to launch a draft or a workflow still in review, naming state and event', () => {
    expect(() => transitionWorkflow(initialLifecycle, { type: 'launch', digest })).toThrow('cannot launch a workflow that is draft');
    const inReview = run({ type: 'submit', digest });
    try {
      transitionWorkflow(inReview, { type: 'launch', digest });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_WORKFLOW_TRANSITION_INVALID', status: 409, from: 'in_review', event: 'launch' });
    }
  });

  it('refuses every event the table does not allow, and allows every one it does', () => {
    const reach: Record<string, WorkflowLifecycle> = {
      draft: initialLifecycle,
      in_review: run({ type: 'submit', digest }),
      approved: run({ type: 'submit', digest }, { type: 'approve', digest }),
      rejected: run({ type: 'submit', digest }, { type: 'reject', digest }),
      launched: run({ type: 'submit', digest }, { type: 'approve', digest }, { type: 'launch', digest }),
      paused: run({ type: 'submit', digest }, { type: 'approve', digest }, { type: 'launch', digest }, { type: 'pause' }),
      stopped: run({ type: 'submit', digest }, { type: 'approve', digest }, { type: 'launch', digest }, { type: 'stop' }),
    };
    for (const state of workflowStates) {
      for (const [type, rule] of Object.entries(workflowTransitions)) {
        const event = { type, digest } as LifecycleEvent;
        if (canTransition(state, type as LifecycleEvent['type'])) {
          expect(transitionWorkflow(reach[state]!, event).state).toBe(rule.to);
        } else {
          expect(() => transitionWorkflow(reach[state]!, event)).toThrow(WorkflowTransitionError);
        }
      }
    }
  });

  it('records every transition under a distinct past-tense snake_case event type', () => {
    const names = Object.values(workflowTransitions).map((t) => t.recordedAs);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^workflow_[a-z]+ed$/);
  });

  it('does not modify the lifecycle it is given', () => {
    const inReview = run({ type: 'submit', digest });
    transitionWorkflow(inReview, { type: 'approve', digest });
    expect(inReview.state).toBe('in_review');
    expect(Object.isFrozen(inReview)).toBe(true);
  });
});
