/**
 * Errors in the shape OpenAI's API returns them (`{error: {message, type, param, code}}`), which
 * is what the `openai` SDK and other clients parse into their typed errors.
 */
export type OpenAIErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'server_error';

export interface OpenAIErrorReply {
  readonly status: number;
  readonly body: {
    readonly error: { readonly message: string; readonly type: OpenAIErrorType; readonly param: string | null; readonly code: string | null };
  };
}

export function openAIError(
  status: number,
  message: string,
  options: { type?: OpenAIErrorType; param?: string | null; code?: string | null } = {},
): OpenAIErrorReply {
  const type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  return { status, body: { error: { message, type, param: options.param ?? null, code: options.code ?? null } } };
}
