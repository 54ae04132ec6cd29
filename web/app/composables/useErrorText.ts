import type { UiError } from '~/utils/errors'

/**
 * Words for an error: the translated text of its code (errors.<CODE> in
 * core.json). BAD_USER_INPUT carries the server's specific message.
 */
export function useErrorText() {
  const { t, te } = useI18n()
  return (e: UiError): string => {
    const key = `errors.${e.code}`
    if (!te(key)) return e.message
    return t(key, { seconds: e.retryAfterSeconds ?? 0, message: e.message })
  }
}
