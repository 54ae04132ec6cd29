// What the admin stores share: the GraphQL client, how their errors map to
// form fields, and number formats. Not a store itself.
import type { AnyVariables, Client, DocumentInput, OperationResult } from '@urql/core'
import { toUiErrors, errorsByField, type UiError } from '~/utils/errors'
import { currencyDigits } from '~/utils/account/format'

/** The app's urql client (installed by plugins/01.urql.ts). */
export function adminClient(): Client {
  return useNuxtApp().$urql as Client
}

/** A query that always asks the server (admin data changes under other operators' hands). */
export function adminFetchFresh<D, V extends AnyVariables>(client: Client, doc: DocumentInput<D, V>, vars: V): Promise<OperationResult<D, V>> {
  return client.query(doc, vars, { requestPolicy: 'network-only' }).toPromise()
}

/** The form field an error belongs to: `input.subject` -> `subject`; undefined for the form as a whole. */
export function adminFieldOf(e: UiError): string | undefined {
  if (!e.field) return undefined
  return e.field.replace(/^input\./, '')
}

/** Errors of an answer keyed by form field ('' = the whole form). */
export function adminFieldErrors(error: Parameters<typeof toUiErrors>[0]): Record<string, UiError[]> {
  return errorsByField(toUiErrors(error), adminFieldOf)
}

/** A validation error made in the browser, already in words. */
export function adminInvalid(field: string, message: string): UiError {
  return { code: 'BAD_USER_INPUT', field, message }
}

/** Minor units as money in the locale: 900 usd -> "$9.00". */
export function adminFormatMoney(minor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency)
  const major = minor / 10 ** digits
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() }).format(major)
  } catch {
    return `${major.toFixed(digits)} ${currency.toUpperCase()}`
  }
}

/**
 * Money typed by a person ("9", "9.5", "9.50") as minor units, or null when
 * it is not a non-negative amount with at most the currency's digits.
 */
export function adminParseMoney(text: string, currency: string): number | null {
  const digits = currencyDigits(currency)
  const t = text.trim().replace(/,/g, '')
  const re = digits === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`)
  if (!re.test(t)) return null
  const [whole = '0', frac = ''] = t.split('.')
  const minor = Number(whole) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0')
  return Number.isSafeInteger(minor) ? minor : null
}

/** Minor units as the text a person edits: 900 usd -> "9.00". */
export function adminMoneyText(minor: number, currency: string): string {
  const digits = currencyDigits(currency)
  return (minor / 10 ** digits).toFixed(digits)
}

/** A whole number typed by a person, or null. */
export function adminParseWhole(text: string): number | null {
  const t = text.trim().replace(/[,_\s]/g, '')
  if (!/^\d+$/.test(t)) return null
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : null
}
