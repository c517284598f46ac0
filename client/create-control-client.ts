/**
 * A client for the host's workflow control plane (`/v1/control`, docs/control-plane.md). What
 * it returns is the host's word, unauthenticated: the enclave re-verifies every launched
 * workflow's digest and signed reviews itself, and a reviewer signs the document they read, not
 * what the host shows them.
 */
import type { ControlAction, LaunchedWorkflowEntry, WorkflowDetail, WorkflowSummary } from '../protocol/workflows/control-api.ts';
import { CONTROL_PREFIX } from '../protocol/workflows/control-api.ts';
import type { SignedReview } from '../protocol/workflows/review-signature.ts';
import { ClientConfigError, HostRejectedError, NetworkError } from './errors.ts';

export interface ControlClientOptions {
  readonly url: string;
  /** An admin key of the host (`Authorization: Bearer`). */
  readonly apiKey?: string;
  readonly fetch?: typeof globalThis.fetch;
}

export interface ControlReviewOutcome {
  readonly workflow: WorkflowDetail;
  readonly counted: boolean;
  readonly approval: {
    readonly approved: boolean;
    readonly satisfiedGroups: readonly string[];
    readonly groups: readonly { readonly id: string; readonly threshold: number; readonly approvedBy: readonly string[] }[];
    readonly rejectedBy: readonly string[];
  };
}

export interface ControlClient {
  create(text: string, format: 'json' | 'yaml'): Promise<{ readonly workflow: WorkflowDetail; readonly created: boolean }>;
  edit(name: string, version: string, text: string, format: 'json' | 'yaml'): Promise<WorkflowDetail>;
  act(name: string, version: string, action: ControlAction): Promise<WorkflowDetail>;
  review(name: string, version: string, review: SignedReview): Promise<ControlReviewOutcome>;
  list(): Promise<WorkflowSummary[]>;
  show(name: string, version: string): Promise<WorkflowDetail>;
  /** The launched set and its registry digest, as the host claims them. */
  launched(): Promise<{ readonly workflows: LaunchedWorkflowEntry[]; readonly registry: string }>;
}

const mediaTypes = { json: 'application/json', yaml: 'application/yaml' } as const;

export function createControlClient(options: ControlClientOptions): ControlClient {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new ClientConfigError({ setting: 'url', reason: 'not a URL' });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ClientConfigError({ setting: 'url', reason: 'must be http or https' });
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey))) {
    throw new ClientConfigError({ setting: 'apiKey', reason: 'must be printable ASCII without spaces' });
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const root = base.href.endsWith('/') ? base.href : `${base.href}/`;
  const path = (...parts: string[]) => new URL(`${CONTROL_PREFIX.slice(1)}/${parts.map(encodeURIComponent).join('/')}`, root).href;

  async function exchange<T>(method: string, url: string, body?: { text: string; type: string }): Promise<{ status: number; value: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    if (body) headers['content-type'] = body.type;
    let response: Response;
    try {
      response = await fetchImpl(url, { method, headers, ...(body ? { body: body.text } : {}) });
    } catch (cause) {
      throw new NetworkError({ cause });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(error.code) ? error.code : 'ERR_CLIENT_HOST_REJECTED';
      const message = typeof error?.message === 'string' ? error.message.slice(0, 300) : '';
      throw new HostRejectedError({ status: response.status, code, message });
    }
    if (parsed === undefined) throw new HostRejectedError({ status: 502, code: 'ERR_CLIENT_HOST_REJECTED', message: 'the host answered with no JSON' });
    return { status: response.status, value: parsed as T };
  }
  const send = async <T>(method: string, url: string, body?: { text: string; type: string }): Promise<T> => (await exchange<T>(method, url, body)).value;

  return {
    async create(text, format) {
      const { status, value } = await exchange<WorkflowDetail>('POST', path('workflows'), { text, type: mediaTypes[format] });
      return { workflow: value, created: status === 201 };
    },
    edit: (name, version, text, format) => send('PUT', path('workflows', name, version), { text, type: mediaTypes[format] }),
    act: (name, version, action) => send('POST', path('workflows', name, version, action)),
    review: (name, version, review) => send('POST', path('workflows', name, version, 'reviews'), { text: JSON.stringify({ review }), type: mediaTypes.json }),
    list: async () => (await send<{ workflows: WorkflowSummary[] }>('GET', path('workflows'))).workflows,
    show: (name, version) => send('GET', path('workflows', name, version)),
    launched: () => send<{ workflows: LaunchedWorkflowEntry[]; registry: string }>('GET', path('launched')),
  };
}
