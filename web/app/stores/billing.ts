import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { CombinedError } from '@urql/core'
import { BillingOverviewQuery, CreateBillingPortalSessionMutation, CreateCheckoutSessionMutation } from '~/graphql/account'
import type { AccountPlanFieldsFragment, BillingOverviewQuery as OverviewResult } from '~/gql/graphql'
import { useAuthStore } from '~/stores/auth'
import { accountClientRef } from '~/utils/account/client'
import { toUiErrors, type UiError } from '~/utils/errors'

/** Everything the usage and billing page shows. */
export type BillingOverview = OverviewResult

/** What to buy at Stripe Checkout. */
export type Purchase = { planCode: string } | { creditPackCode: string }

/** The key of a purchase or action, for busy state and errors: `plan:pro`, `pack:credits-100k`, `portal`. */
export function actionKey(p: Purchase | 'portal'): string {
  if (p === 'portal') return 'portal'
  return 'planCode' in p ? `plan:${p.planCode}` : `pack:${p.creditPackCode}`
}

/**
 * What the card of a plan or credit pack offers: Stripe Checkout, the billing
 * portal (where a subscriber changes plans), a word that it cannot be bought,
 * or nothing.
 */
export type OfferAction = 'checkout' | 'portal' | 'notForSale' | 'none'

/** Subscription states in which the person has a paid plan to manage. */
const MANAGED = new Set(['ACTIVE', 'TRIALING', 'PAST_DUE', 'UNPAID', 'INCOMPLETE'])

/**
 * Usage and billing: the period's usage and daily figures, plans and credit
 * packs, Stripe Checkout and the billing portal. Billing is unavailable when
 * the server says so in /app-config.json or answers BILLING_NOT_CONFIGURED.
 */
export const useBillingStore = defineStore('billing', () => {
  const client = accountClientRef()
  const auth = useAuthStore()
  let redirect: (url: string) => void = (url) => window.location.assign(url)

  const overview = ref<BillingOverview | null>(null)
  const loading = ref(false)
  const errors = ref<UiError[]>([])
  /** The server answered BILLING_NOT_CONFIGURED. */
  const refused = ref(false)
  /** The action under way (actionKey), if any. */
  const busy = ref<string | null>(null)
  /** Errors of each action, by actionKey. */
  const actionErrors = ref<Record<string, UiError[]>>({})

  const available = computed(() => auth.config.billing && !refused.value)
  const subscribed = computed(() => !!overview.value?.me.subscription && MANAGED.has(overview.value.me.subscription.status))

  /**
   * What a plan's card offers, from the server's `purchasable`. The current
   * plan offers nothing, and neither does any plan without billing (the page
   * says why once). A free plan the server does not sell needs no word: it
   * is what a person has without buying.
   */
  function planAction(p: Pick<AccountPlanFieldsFragment, 'code' | 'purchasable' | 'monthlyPriceCents'>): OfferAction {
    const me = overview.value?.me
    if (!available.value || !me || p.code === me.plan.code) return 'none'
    if (!p.purchasable) return p.monthlyPriceCents > 0 ? 'notForSale' : 'none'
    return subscribed.value ? 'portal' : 'checkout'
  }

  /** What a credit pack's card offers, from the server's `purchasable`. */
  function packAction(p: { purchasable: boolean }): Exclude<OfferAction, 'portal'> {
    if (!available.value) return 'none'
    return p.purchasable ? 'checkout' : 'notForSale'
  }

  /** Loads usage, plans and packs. */
  async function load() {
    loading.value = true
    try {
      const res = await client.get().query(BillingOverviewQuery, {}, { requestPolicy: 'network-only' }).toPromise()
      errors.value = toUiErrors(res.error)
      if (res.data) overview.value = res.data
    } finally {
      loading.value = false
    }
  }

  function origin(): string {
    return window.location.origin
  }

  function fail(key: string, errs: UiError[]) {
    if (!errs.length) errs = [{ code: 'INTERNAL_SERVER_ERROR', message: 'no answer' }]
    if (errs.some((e) => e.code === 'BILLING_NOT_CONFIGURED')) refused.value = true
    actionErrors.value = { ...actionErrors.value, [key]: errs }
  }

  /**
   * Asks the server for a Stripe page and sends the browser there; true when
   * it is on its way. `key` says which button asked (its busy state and
   * errors).
   */
  async function goToStripe(key: string, ask: () => Promise<{ url: string | undefined; error?: CombinedError }>): Promise<boolean> {
    busy.value = key
    actionErrors.value = { ...actionErrors.value, [key]: [] }
    try {
      const { url, error } = await ask()
      if (!url) {
        fail(key, toUiErrors(error))
        return false
      }
      redirect(url)
      return true
    } finally {
      busy.value = null
    }
  }

  /** Opens Stripe Checkout for a plan or a credit pack; true when the browser is on its way there. */
  function checkout(p: Purchase): Promise<boolean> {
    const kind = 'planCode' in p ? 'plan' : 'credits'
    return goToStripe(actionKey(p), async () => {
      const res = await client.get().mutation(CreateCheckoutSessionMutation, {
        input: {
          ...p,
          // Stripe puts the session id where {CHECKOUT_SESSION_ID} stands.
          successUrl: `${origin()}/billing/success?kind=${kind}&session_id={CHECKOUT_SESSION_ID}`,
          cancelUrl: `${origin()}/billing/cancel?kind=${kind}`,
        },
      }).toPromise()
      return { url: res.data?.createCheckoutSession.url, error: res.error }
    })
  }

  /**
   * Opens Stripe's billing portal, coming back to the usage page. `key` says
   * which button asked (its busy state and errors); 'portal' by default.
   */
  function portal(key = 'portal'): Promise<boolean> {
    return goToStripe(key, async () => {
      const res = await client.get().mutation(CreateBillingPortalSessionMutation, { returnUrl: `${origin()}/usage` }).toPromise()
      return { url: res.data?.createBillingPortalSession.url, error: res.error }
    })
  }

  /** Forgets everything (sign-out). */
  function reset() {
    overview.value = null
    errors.value = []
    actionErrors.value = {}
    refused.value = false
  }

  return {
    overview, loading, errors, refused, busy, actionErrors, available, subscribed,
    planAction, packAction, load, checkout, portal, reset,
    /** Replaces the GraphQL client (tests). */
    useClient: client.set,
    /** Replaces the navigation to Stripe (tests). */
    useRedirect(fn: (url: string) => void) {
      redirect = fn
    },
  }
})
