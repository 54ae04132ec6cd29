// Money, counts and dates in the reader's locale, for the account pages
// (the admin area's money fields use currencyDigits too).

/** The fraction digits of a currency (2 for usd, 0 for jpy). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/** Minor units as money in the reader's locale: 900 usd → "$9.00". */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const code = currency.toUpperCase()
  const digits = currencyDigits(code)
  const value = minor / 10 ** digits
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code, minimumFractionDigits: Number.isInteger(value) ? 0 : digits, maximumFractionDigits: digits }).format(value)
  } catch {
    return `${value.toFixed(digits)} ${code}`
  }
}

/** A count with the reader's digit grouping. */
export function formatCount(n: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(n)
}

/** A date (no time) in the reader's locale; UTC, as the server counts days. */
export function formatDay(iso: string, locale: string, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso)
  if (Number.isNaN(ms)) return iso
  return new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'UTC' }).format(new Date(ms))
}

/** A moment as date and time in the reader's locale and time zone. */
export function formatDateTime(iso: string, locale: string): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms))
}
