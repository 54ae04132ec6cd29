import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AdminPlansQuery, AdminUpsertPlanMutation } from '~/graphql/admin'
import type { AdminPlanFieldsFragment, PlanInput } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh, adminFieldErrors, adminInvalid, adminMoneyText, adminParseMoney, adminParseWhole } from '~/stores/adminShared'

/** A plan as the editor shows it. */
export type AdminPlan = AdminPlanFieldsFragment

/** The plan editor's fields, as the text a person types. */
export interface AdminPlanFormValues {
  code: string
  name: string
  currency: string
  monthlyPrice: string
  includedCharacters: string
  /** Off: a hard cap (no overage). */
  overage: boolean
  overagePricePer1000: string
  maxConcurrentGenerations: string
  maxCharactersPerGeneration: string
  requestsPerMinute: string
  maxWebsockets: string
  maxSubscriptions: string
  /** Empty: no Stripe price (an existing plan's price is removed on save). */
  stripePriceId: string
  /** One selling point a line. */
  features: string
}

/** Words for browser-side validation, by rule (translated by the caller). */
export type AdminPlanRule =
  | 'code' | 'name' | 'currency' | 'money' | 'whole' | 'concurrency' | 'atLeastOne' | 'stripePriceId'
  | 'requestsPerMinute' | 'maxWebsockets' | 'maxSubscriptions'

/** The API limits' allowed ranges, as the server checks them. */
export const ADMIN_PLAN_LIMITS = {
  requestsPerMinute: { min: 1, max: 1_000_000 },
  maxWebsockets: { min: 1, max: 1000 },
  maxSubscriptions: { min: 1, max: 10_000 },
} as const

/** An empty form for a new plan (the API limits start at the server's defaults for a new plan). */
export function adminEmptyPlanForm(): AdminPlanFormValues {
  return {
    code: '', name: '', currency: 'usd', monthlyPrice: '0', includedCharacters: '0', overage: false,
    overagePricePer1000: '', maxConcurrentGenerations: '2', maxCharactersPerGeneration: '5000',
    requestsPerMinute: '60', maxWebsockets: '5', maxSubscriptions: '20', stripePriceId: '', features: '',
  }
}

/** The form of an existing plan, every field filled in with its current value. */
export function adminPlanToForm(p: AdminPlan): AdminPlanFormValues {
  return {
    code: p.code,
    name: p.name,
    currency: p.currency,
    monthlyPrice: adminMoneyText(p.monthlyPriceCents, p.currency),
    includedCharacters: String(p.includedCharacters),
    overage: p.overagePricePer1000Cents != null,
    overagePricePer1000: p.overagePricePer1000Cents != null ? adminMoneyText(p.overagePricePer1000Cents, p.currency) : '',
    maxConcurrentGenerations: String(p.maxConcurrentGenerations),
    maxCharactersPerGeneration: String(p.maxCharactersPerGeneration),
    requestsPerMinute: String(p.requestsPerMinute),
    maxWebsockets: String(p.maxWebsockets),
    maxSubscriptions: String(p.maxSubscriptions),
    stripePriceId: p.stripePriceId ?? '',
    features: p.features.join('\n'),
  }
}

/**
 * Checks the form with the server's rules and builds the mutation's input.
 * Errors are keyed by the input field they belong to, with `message` set by `words`.
 * An empty Stripe price id is sent as "" (remove the plan's price) when `editing`
 * an existing plan, and as null (none) for a new one.
 */
export function adminPlanFormToInput(
  f: AdminPlanFormValues,
  words: (rule: AdminPlanRule) => string,
  editing = false,
): { input?: PlanInput; errors: UiError[] } {
  const errors: UiError[] = []
  const code = f.code.trim()
  const name = f.name.trim()
  const currency = f.currency.trim().toLowerCase()
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(code)) errors.push(adminInvalid('code', words('code')))
  if (!name || name.length > 100) errors.push(adminInvalid('name', words('name')))
  if (!/^[a-z]{3}$/.test(currency)) errors.push(adminInvalid('currency', words('currency')))
  const money = /^[a-z]{3}$/.test(currency) ? currency : 'usd'
  const monthlyPriceCents = adminParseMoney(f.monthlyPrice, money)
  if (monthlyPriceCents == null) errors.push(adminInvalid('monthlyPriceCents', words('money')))
  const includedCharacters = adminParseWhole(f.includedCharacters)
  if (includedCharacters == null) errors.push(adminInvalid('includedCharacters', words('whole')))
  let overagePricePer1000Cents: number | null = null
  if (f.overage) {
    overagePricePer1000Cents = adminParseMoney(f.overagePricePer1000, money)
    if (overagePricePer1000Cents == null) errors.push(adminInvalid('overagePricePer1000Cents', words('money')))
  }
  const maxConcurrentGenerations = adminParseWhole(f.maxConcurrentGenerations)
  if (maxConcurrentGenerations == null || maxConcurrentGenerations < 1 || maxConcurrentGenerations > 1000) {
    errors.push(adminInvalid('maxConcurrentGenerations', words('concurrency')))
  }
  const maxCharactersPerGeneration = adminParseWhole(f.maxCharactersPerGeneration)
  if (maxCharactersPerGeneration == null || maxCharactersPerGeneration < 1) {
    errors.push(adminInvalid('maxCharactersPerGeneration', words('atLeastOne')))
  }
  const limits = {} as Record<keyof typeof ADMIN_PLAN_LIMITS, number>
  for (const [field, { min, max }] of Object.entries(ADMIN_PLAN_LIMITS) as [keyof typeof ADMIN_PLAN_LIMITS, { min: number; max: number }][]) {
    const n = adminParseWhole(f[field])
    if (n == null || n < min || n > max) errors.push(adminInvalid(field, words(field)))
    else limits[field] = n
  }
  const stripePriceId = f.stripePriceId.trim()
  if (stripePriceId && !/^[A-Za-z0-9_]+$/.test(stripePriceId)) errors.push(adminInvalid('stripePriceId', words('stripePriceId')))
  if (errors.length) return { errors }
  return {
    errors,
    input: {
      code, name, currency,
      monthlyPriceCents: monthlyPriceCents!,
      includedCharacters: includedCharacters!,
      overagePricePer1000Cents,
      maxConcurrentGenerations: maxConcurrentGenerations!,
      maxCharactersPerGeneration: maxCharactersPerGeneration!,
      requestsPerMinute: limits.requestsPerMinute,
      maxWebsockets: limits.maxWebsockets,
      maxSubscriptions: limits.maxSubscriptions,
      stripePriceId: stripePriceId || (editing ? '' : null),
      features: f.features.split('\n').map((s) => s.trim()).filter(Boolean),
    },
  }
}

/** Plans as operators edit them. */
export const useAdminPlansStore = defineStore('adminPlans', () => {
  const client = adminClient()
  const plans = ref<AdminPlan[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<UiError | null>(null)

  /** Loads every plan, cheapest first. */
  async function load() {
    loading.value = true
    const res = await adminFetchFresh(client, AdminPlansQuery, {})
    loading.value = false
    if (!res.data) {
      error.value = toUiErrors(res.error)[0] ?? null
      return
    }
    error.value = null
    plans.value = res.data.plans
    loaded.value = true
  }

  /** Creates or changes a plan; answers the saved plan, or the errors keyed by form field. */
  async function save(input: PlanInput): Promise<{ plan?: AdminPlan; errors: Record<string, UiError[]> }> {
    const res = await client.mutation(AdminUpsertPlanMutation, { input }).toPromise()
    const saved = res.data?.upsertPlan
    if (!saved) return { errors: adminFieldErrors(res.error) }
    const others = plans.value.filter((p) => p.code !== saved.code)
    plans.value = [...others, saved].sort((a, b) => a.monthlyPriceCents - b.monthlyPriceCents || a.code.localeCompare(b.code))
    return { plan: saved, errors: {} }
  }

  return { plans, loading, loaded, error, load, save }
})
