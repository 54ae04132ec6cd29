import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import { useAuthStore } from '~/stores/auth'
import { useBillingStore } from '~/stores/billing'
import UsagePage from '~/pages/usage.vue'
import UsageChart from '~/components/account/UsageChart.vue'
import { dailySeries, meterOf } from '~/utils/account/meter'
import { formatMoney } from '~/utils/account/format'
import { fakeServer, gqlError, settle } from './account-fakes'

const usage = {
  periodStart: '2026-11-01T00:00:00Z',
  periodEnd: '2026-12-01T00:00:00Z',
  includedCharacters: 20000,
  usedCharacters: 15000,
  reservedCharacters: 1000,
  creditCharacters: 0,
  overageCharacters: 0,
  remainingCharacters: 4000,
  daily: [
    { date: '2026-11-02', characters: 5000, generations: 3 },
    { date: '2026-11-04', characters: 10000, generations: 7 },
  ],
}

const plan = (code: string, name: string, price: number, included: number, overage: number | null, purchasable = price > 0) => ({
  id: `p-${code}`, code, name, monthlyPriceCents: price, currency: 'usd', includedCharacters: included,
  overagePricePer1000Cents: overage, maxConcurrentGenerations: 2, maxCharactersPerGeneration: 5000, requestsPerMinute: 60, features: [],
  purchasable,
})

const pack = (code: string, name: string, purchasable = true) => ({
  id: `c-${code}`, code, name, characters: 100000, priceCents: 500, currency: 'usd', purchasable,
})

const overview = {
  me: { id: 'u1', plan: plan('free', 'Free', 0, 20000, null), subscription: null, usage },
  plans: [plan('free', 'Free', 0, 20000, null), plan('starter', 'Starter', 900, 500000, 30), plan('pro', 'Pro', 2900, 2000000, 20)],
  creditPacks: [pack('credits-100k', '100k credits')],
}

/** The overview when only the starter plan and the small pack have a Stripe price, as a subscriber to `on` (or not). */
function partlyForSale(on?: ReturnType<typeof plan>) {
  return {
    me: on
      ? { ...overview.me, plan: on, subscription: { status: 'ACTIVE', currentPeriodEnd: '2026-12-01T00:00:00Z', cancelAtPeriodEnd: false, plan: { id: on.id, code: on.code, name: on.name } } }
      : overview.me,
    plans: [plan('free', 'Free', 0, 20000, null), plan('starter', 'Starter', 900, 500000, 30), plan('pro', 'Pro', 2900, 2000000, 20, false)],
    creditPacks: [pack('credits-100k', '100k credits'), pack('credits-1m', '1M credits', false)],
  }
}

describe('meterOf', () => {
  it('under a hard cap, the bar is used + reserved + remaining', () => {
    const m = meterOf(usage)
    expect(m.capacity).toBe(20000)
    expect(m.usedShare).toBeCloseTo(0.75)
    expect(m.reservedShare).toBeCloseTo(0.05)
    expect(m.warning).toBe(true)
    expect(m.exhausted).toBe(false)
    expect(m.remaining).toBe(4000)
  })
  it('counts credits into the capacity and knows when nothing is left', () => {
    const m = meterOf({ ...usage, usedCharacters: 25000, reservedCharacters: 0, creditCharacters: 0, remainingCharacters: 0 })
    expect(m.capacity).toBe(25000)
    expect(m.exhausted).toBe(true)
    expect(m.share).toBe(1)
  })
  it('with overage there is no cap', () => {
    const m = meterOf({ ...usage, usedCharacters: 30000, reservedCharacters: 0, overageCharacters: 10000, remainingCharacters: null })
    expect(m.unlimited).toBe(true)
    expect(m.remaining).toBeNull()
    expect(m.exhausted).toBe(false)
    expect(m.capacity).toBe(30000)
  })
  it('an empty plan does not divide by zero', () => {
    const m = meterOf({ ...usage, includedCharacters: 0, usedCharacters: 0, reservedCharacters: 0, remainingCharacters: 0 })
    expect(m.share).toBe(0)
  })
})

describe('dailySeries', () => {
  it('fills the days of the period up to today with zeros', () => {
    const s = dailySeries(usage.periodStart, usage.periodEnd, usage.daily, new Date('2026-11-05T12:00:00Z'))
    expect(s.map((d) => d.date)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05'])
    expect(s.map((d) => d.characters)).toEqual([0, 5000, 0, 10000, 0])
  })
  it('stops at the end of a past period and keeps at most maxDays', () => {
    const s = dailySeries(usage.periodStart, usage.periodEnd, [], new Date('2027-03-01T00:00:00Z'), 10)
    expect(s).toHaveLength(10)
    expect(s[s.length - 1]!.date).toBe('2026-11-30')
  })
})

describe('formatMoney', () => {
  it('formats minor units by currency and locale', () => {
    expect(formatMoney(900, 'usd', 'en-US')).toBe('$9')
    expect(formatMoney(30, 'usd', 'en-US')).toBe('$0.30')
    expect(formatMoney(500, 'jpy', 'ja-JP')).toMatch(/500/)
  })
})

describe('billing store', () => {
  let store: ReturnType<typeof useBillingStore>
  let redirects: string[]
  beforeEach(() => {
    store = useBillingStore()
    store.reset()
    redirects = []
    store.useRedirect((u) => redirects.push(u))
    useAuthStore().config = { firebase: null, billing: true, playground: null }
  })
  afterEach(() => {
    useAuthStore().config = { firebase: null, billing: false, playground: null }
  })

  it('sends the person to Checkout with success and cancel pages', async () => {
    const s = fakeServer({ CreateCheckoutSession: () => ({ data: { createCheckoutSession: { id: 'cs_1', url: 'https://checkout.stripe.test/cs_1' } } }) })
    store.useClient(s.client)
    expect(await store.checkout({ planCode: 'starter' })).toBe(true)
    expect(redirects).toEqual(['https://checkout.stripe.test/cs_1'])
    const input = s.callsOf('CreateCheckoutSession')[0]!.variables.input as Record<string, string>
    expect(input.planCode).toBe('starter')
    expect(input.successUrl).toBe(`${window.location.origin}/billing/success?kind=plan&session_id={CHECKOUT_SESSION_ID}`)
    expect(input.cancelUrl).toBe(`${window.location.origin}/billing/cancel?kind=plan`)

    expect(await store.checkout({ creditPackCode: 'credits-100k' })).toBe(true)
    const pack = s.callsOf('CreateCheckoutSession')[1]!.variables.input as Record<string, string>
    expect(pack).toMatchObject({ creditPackCode: 'credits-100k', cancelUrl: `${window.location.origin}/billing/cancel?kind=credits` })
  })

  it('opens the portal coming back to /usage', async () => {
    const s = fakeServer({ CreateBillingPortalSession: (v) => ({ data: { createBillingPortalSession: { url: `https://portal.stripe.test/?r=${v.returnUrl}` } } }) })
    store.useClient(s.client)
    expect(await store.portal()).toBe(true)
    expect(s.callsOf('CreateBillingPortalSession')[0]!.variables.returnUrl).toBe(`${window.location.origin}/usage`)
    expect(redirects).toHaveLength(1)
  })

  it('turns billing off when the server answers BILLING_NOT_CONFIGURED', async () => {
    const s = fakeServer({ CreateCheckoutSession: () => gqlError('BILLING_NOT_CONFIGURED', 'payments are not configured') })
    store.useClient(s.client)
    expect(store.available).toBe(true)
    expect(await store.checkout({ planCode: 'pro' })).toBe(false)
    expect(store.available).toBe(false)
    expect(store.actionErrors['plan:pro']?.[0]?.code).toBe('BILLING_NOT_CONFIGURED')
    expect(redirects).toEqual([])
  })

  it('is unavailable when /app-config.json says billing: false', () => {
    useAuthStore().config = { firebase: null, billing: false, playground: null }
    expect(store.available).toBe(false)
  })
})

describe('usage page', () => {
  afterEach(() => {
    useBillingStore().reset()
    useAuthStore().config = { firebase: null, billing: false, playground: null }
  })

  async function mountPage(billing: boolean, data: unknown = overview) {
    useAuthStore().config = { firebase: null, billing, playground: null }
    const s = fakeServer({
      BillingOverview: () => ({ data }),
      CreateCheckoutSession: () => gqlError('BAD_USER_INPUT', '"credits-100k" is not a credit pack sold here', 'input.creditPackCode'),
    })
    useBillingStore().useClient(s.client)
    const w = await mountSuspended(UsagePage)
    await settle()
    return w
  }

  it('says next to the button, in words, when a pack is not for sale', async () => {
    const w = await mountPage(true)
    const button = w.get('[data-testid="buy-pack-credits-100k"]')
    await button.trigger('click')
    await settle()
    const error = w.get('[data-testid="pack-credits-100k"] .field-error')
    expect(error.text()).toBe('This is not for sale on this server yet. Try again later or contact support.')
    expect(button.attributes('aria-describedby')).toBe(error.element.parentElement!.id)
    w.unmount()
  })

  it('shows the meter, the chart and the plans', async () => {
    const w = await mountPage(true)
    expect(w.get('[data-testid="usage-summary"]').text()).toBe('16,000 of 20,000 characters used')
    expect(w.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('80')
    expect(w.get('[data-testid="usage-remaining"]').text()).toBe('4,000')
    expect(w.find('[data-testid="usage-chart"] svg').exists()).toBe(true)
    expect(w.get('[data-testid="plan-free"]').text()).toContain('Current plan')
    expect(w.find('[data-testid="choose-plan-free"]').exists()).toBe(false)
    expect(w.get('[data-testid="choose-plan-starter"]').text()).toBe('Upgrade to Starter')
    expect(w.find('[data-testid="buy-pack-credits-100k"]').exists()).toBe(true)
    expect(w.find('[data-testid="manage-billing"]').exists()).toBe(true)
    expect(w.find('[data-testid="billing-unavailable"]').exists()).toBe(false)
    w.unmount()
  })

  it('offers only what the server can sell, and says so of the rest', async () => {
    const w = await mountPage(true, partlyForSale())
    expect(w.get('[data-testid="plan-free"]').text()).toContain('Current plan')
    expect(w.get('[data-testid="choose-plan-starter"]').text()).toBe('Upgrade to Starter')
    expect(w.find('[data-testid="choose-plan-pro"]').exists()).toBe(false)
    expect(w.get('[data-testid="plan-pro"]').text()).toContain('Not available to buy yet.')
    expect(w.find('[data-testid="buy-pack-credits-100k"]').exists()).toBe(true)
    expect(w.find('[data-testid="buy-pack-credits-1m"]').exists()).toBe(false)
    expect(w.get('[data-testid="pack-credits-1m"]').text()).toContain('Not available to buy yet.')
    w.unmount()
  })

  it('sends a subscriber to the portal only for plans it sells; the free plan needs no word', async () => {
    const w = await mountPage(true, partlyForSale(plan('starter', 'Starter', 900, 500000, 30)))
    expect(w.get('[data-testid="plan-starter"]').text()).toContain('Current plan')
    expect(w.find('[data-testid="choose-plan-starter"]').exists()).toBe(false)
    expect(w.find('[data-testid="choose-plan-pro"]').exists()).toBe(false)
    expect(w.get('[data-testid="plan-pro"]').text()).toContain('Not available to buy yet.')
    expect(w.find('[data-testid="choose-plan-free"]').exists()).toBe(false)
    expect(w.get('[data-testid="plan-free"]').text()).not.toContain('Not available to buy yet.')
    w.unmount()

    const again = await mountPage(true, { ...partlyForSale(plan('starter', 'Starter', 900, 500000, 30)), plans: overview.plans })
    expect(again.get('[data-testid="choose-plan-pro"]').text()).toBe('Change in billing portal')
    again.unmount()
  })

  it('says in Japanese that an item cannot be bought', async () => {
    const nuxtApp = useNuxtApp()
    await nuxtApp.$i18n.setLocale('ja')
    try {
      const w = await mountPage(true, partlyForSale())
      expect(w.get('[data-testid="plan-pro"]').text()).toContain('現在は購入できません。')
      expect(w.get('[data-testid="pack-credits-1m"]').text()).toContain('現在は購入できません。')
      w.unmount()
    } finally {
      await nuxtApp.$i18n.setLocale('en')
    }
  })

  it('says billing is not available instead of offering broken buttons', async () => {
    const w = await mountPage(false)
    expect(w.get('[data-testid="billing-unavailable"]').text()).toContain('Billing is not available')
    expect(w.find('[data-testid^="choose-plan-"]').exists()).toBe(false)
    expect(w.find('[data-testid^="buy-pack-"]').exists()).toBe(false)
    expect(w.find('[data-testid="manage-billing"]').exists()).toBe(false)
    expect(w.find('[data-testid="plan-pro"]').exists()).toBe(true)
    expect(w.text()).not.toContain('Not available to buy yet.')
    w.unmount()
  })
})

describe('UsageChart', () => {
  it('draws a bar per day and offers the figures as a table', async () => {
    const days = dailySeries(usage.periodStart, usage.periodEnd, usage.daily, new Date('2026-11-05T00:00:00Z'))
    const w = await mountSuspended(UsageChart, { props: { days } })
    expect(w.findAll('rect')).toHaveLength(5)
    expect(w.get('figcaption').text()).toContain('15,000 characters')
    expect(w.findAll('[data-testid="usage-table"] tbody tr')).toHaveLength(5)
  })
})
