// Pure arithmetic and formatting for the usage and billing pages.

/** The usage fields the meter reads. */
export interface MeterUsage {
  includedCharacters: number
  usedCharacters: number
  reservedCharacters: number
  creditCharacters: number
  overageCharacters: number
  remainingCharacters: number | null
}

/** How full the period is, for the meter. */
export interface Meter {
  /** The characters the bar stands for: included + credits (at least what is used and held). */
  capacity: number
  /** Share of the bar used, 0..1. */
  usedShare: number
  /** Share of the bar held by queued/running generations, 0..1 (after usedShare). */
  reservedShare: number
  /** Used plus reserved, over capacity, 0..1 (for the progressbar's value). */
  share: number
  /** Overage is allowed: there is no hard cap. */
  unlimited: boolean
  /** Characters left before the cap; null when unlimited. */
  remaining: number | null
  /** At or past 80 % of capacity. */
  warning: boolean
  /** Nothing left under a hard cap. */
  exhausted: boolean
}

/**
 * The meter of a period. Under a hard cap, capacity is exactly used +
 * reserved + remaining (credits already used are inside `used`); with
 * overage it is included + credits left, or what is used when more.
 */
export function meterOf(u: MeterUsage): Meter {
  const taken = u.usedCharacters + u.reservedCharacters
  const unlimited = u.remainingCharacters === null
  const capacity = unlimited
    ? Math.max(u.includedCharacters + u.creditCharacters, taken)
    : taken + Math.max(0, u.remainingCharacters ?? 0)
  const share = capacity > 0 ? Math.min(1, taken / capacity) : taken > 0 ? 1 : 0
  const usedShare = capacity > 0 ? Math.min(1, u.usedCharacters / capacity) : 0
  const reservedShare = Math.max(0, share - usedShare)
  return {
    capacity,
    usedShare,
    reservedShare,
    share,
    unlimited,
    remaining: unlimited ? null : Math.max(0, u.remainingCharacters ?? 0),
    warning: share >= 0.8,
    exhausted: !unlimited && (u.remainingCharacters ?? 0) <= 0,
  }
}

/** One day of the chart. */
export interface ChartDay {
  /** YYYY-MM-DD (UTC). */
  date: string
  characters: number
  generations: number
}

const DAY_MS = 86_400_000

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * Every day of the period up to today (UTC), with zeros for days without
 * usage; at most `maxDays`, the latest ones.
 */
export function dailySeries(
  periodStart: string,
  periodEnd: string,
  daily: readonly ChartDay[],
  now: Date = new Date(),
  maxDays = 62,
): ChartDay[] {
  const byDate = new Map(daily.map((d) => [d.date, d]))
  const start = Date.parse(`${periodStart.slice(0, 10)}T00:00:00Z`)
  const endExclusive = Date.parse(periodEnd)
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`)
  let last = Math.min(today, endExclusive - 1)
  // Days with usage past "today" (clock skew) still show.
  for (const d of daily) last = Math.max(last, Date.parse(`${d.date}T00:00:00Z`))
  if (Number.isNaN(start) || Number.isNaN(last) || last < start) return [...daily].sort((a, b) => a.date.localeCompare(b.date))
  const out: ChartDay[] = []
  for (let t = Math.floor(last / DAY_MS) * DAY_MS; t >= start && out.length < maxDays; t -= DAY_MS) {
    const date = isoDay(t)
    out.push(byDate.get(date) ?? { date, characters: 0, generations: 0 })
  }
  return out.reverse()
}

/** The last day a period covers (its end is exclusive). */
export function lastDayOf(periodEnd: string): string {
  const ms = Date.parse(periodEnd)
  return Number.isNaN(ms) ? periodEnd : isoDay(ms - 1)
}
