import type { CombinedError } from '@urql/core'

/** One error of an answer, as the UI shows it. */
export interface UiError {
  /** extensions.code: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, QUOTA_EXCEEDED, RATE_LIMITED, ... */
  code: string
  /** extensions.field for BAD_USER_INPUT, e.g. `input.text`. */
  field?: string
  /** The server's message (English, specific). */
  message: string
  /** For RATE_LIMITED. */
  retryAfterSeconds?: number
}

/** Turns an urql error into UI errors; a network failure becomes NETWORK_ERROR. */
export function toUiErrors(error: CombinedError | null | undefined): UiError[] {
  if (!error) return []
  if (error.graphQLErrors.length === 0) {
    const status = (error.response as Response | undefined)?.status
    return [{ code: status === 401 ? 'UNAUTHENTICATED' : 'NETWORK_ERROR', message: error.networkError?.message ?? error.message }]
  }
  return error.graphQLErrors.map((e) => {
    const ext = (e.extensions ?? {}) as Record<string, unknown>
    const out: UiError = { code: typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR', message: e.message }
    if (typeof ext.field === 'string') out.field = ext.field
    if (typeof ext.retryAfterSeconds === 'number') out.retryAfterSeconds = ext.retryAfterSeconds
    return out
  })
}

/**
 * Splits errors by the form field they belong to. `fieldOf` maps an error to
 * a field name of the form (or undefined for the form as a whole, key '').
 */
export function errorsByField(errors: UiError[], fieldOf: (e: UiError) => string | undefined): Record<string, UiError[]> {
  const out: Record<string, UiError[]> = {}
  for (const e of errors) {
    const key = fieldOf(e) ?? ''
    ;(out[key] ??= []).push(e)
  }
  return out
}
