import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AdminKpisQuery } from '~/graphql/admin'
import type { AdminKpisQuery as KpisResult } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh, adminInvalid } from '~/stores/adminShared'

/** Operator figures of a range. */
export type AdminKpis = KpisResult['kpis']

/** The longest range the server answers, in days. */
export const ADMIN_KPI_MAX_DAYS = 400

const DAY = 24 * 60 * 60 * 1000

/** A UTC day as YYYY-MM-DD. */
export function adminIsoDay(d: Date): string {
  return d.toISOString().slice(0, 10)
}

/** The days from `days - 1` days before `today` to `today`, both included (UTC). */
export function adminLastDays(days: number, today: Date = new Date()): { from: string; to: string } {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())
  return { from: adminIsoDay(new Date(end - (days - 1) * DAY)), to: adminIsoDay(new Date(end)) }
}

/** Words for range validation, by rule (translated by the caller). */
export type AdminRangeRule = 'fromMissing' | 'toMissing' | 'order' | 'tooLong'

/**
 * The API's half-open range [from, to) for the days a person picked, both
 * included: 2026-01-01..2026-01-31 -> 2026-01-01T00:00:00Z..2026-02-01T00:00:00Z.
 */
export function adminRangeToVariables(
  from: string,
  to: string,
  words: (rule: AdminRangeRule) => string,
): { vars?: { from: string; to: string }; errors: UiError[] } {
  const errors: UiError[] = []
  const day = /^\d{4}-\d{2}-\d{2}$/
  const start = day.test(from) ? Date.parse(`${from}T00:00:00Z`) : NaN
  const last = day.test(to) ? Date.parse(`${to}T00:00:00Z`) : NaN
  if (Number.isNaN(start)) errors.push(adminInvalid('from', words('fromMissing')))
  if (Number.isNaN(last)) errors.push(adminInvalid('to', words('toMissing')))
  if (errors.length) return { errors }
  const end = last + DAY
  if (end <= start) return { errors: [adminInvalid('to', words('order'))] }
  if (end - start > ADMIN_KPI_MAX_DAYS * DAY) return { errors: [adminInvalid('to', words('tooLong'))] }
  return { errors, vars: { from: new Date(start).toISOString(), to: new Date(end).toISOString() } }
}

/** KPIs for a range of days picked by the operator. */
export const useAdminKpisStore = defineStore('adminKpis', () => {
  const client = adminClient()
  const initial = adminLastDays(30)
  const from = ref(initial.from)
  const to = ref(initial.to)
  const kpis = shallowRef<AdminKpis | null>(null)
  const loading = ref(false)
  /** Errors of the range fields ('from', 'to') and of the request (''). */
  const errors = ref<Record<string, UiError[]>>({})
  let generation = 0

  /** Loads the figures of [from, to]; `words` translates range problems. */
  async function load(words: (rule: AdminRangeRule) => string) {
    const { vars, errors: bad } = adminRangeToVariables(from.value, to.value, words)
    if (!vars) {
      errors.value = Object.fromEntries(bad.map((e) => [e.field ?? '', [e]]))
      return
    }
    const mine = ++generation
    loading.value = true
    const res = await adminFetchFresh(client, AdminKpisQuery, vars)
    if (mine !== generation) return
    loading.value = false
    if (!res.data) {
      const errs = toUiErrors(res.error)
      const out: Record<string, UiError[]> = {}
      for (const e of errs) (out[e.field === 'from' || e.field === 'to' ? e.field : ''] ??= []).push(e)
      errors.value = out
      return
    }
    errors.value = {}
    kpis.value = res.data.kpis
  }

  return { from, to, kpis, loading, errors, load }
})
