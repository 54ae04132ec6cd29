import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import BarChart from '~/components/admin/BarChart.vue'
import PlanForm from '~/components/admin/PlanForm.vue'
import BroadcastForm from '~/components/admin/BroadcastForm.vue'
import BroadcastProgress from '~/components/admin/BroadcastProgress.vue'
import UsersPage from '~/pages/admin/users.vue'
import OverviewPage from '~/pages/admin/index.vue'
import { fakeServer, gqlError } from './admin-fakeClient'

afterEach(() => vi.restoreAllMocks())

const plan = {
  id: 'pl_pro', code: 'pro', name: 'Pro', monthlyPriceCents: 2900, currency: 'usd', includedCharacters: 2000000,
  overagePricePer1000Cents: 20, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 100000, requestsPerMinute: 1200,
  maxWebsockets: 25, maxSubscriptions: 200, features: ['Fast'], stripePriceId: 'price_pro', purchasable: true,
}

describe('AdminBarChart', () => {
  it('draws a bar a day and offers the numbers as a table', async () => {
    const points = [{ date: '2026-03-01', value: 4 }, { date: '2026-03-02', value: 0 }, { date: '2026-03-03', value: 8 }]
    const w = await mountSuspended(BarChart, { props: { title: 'Generations', points } })
    expect(w.findAll('[data-testid="chart-bar"]')).toHaveLength(3)
    const svg = w.get('svg[role="img"]')
    expect(svg.attributes('aria-label')).toContain('Generations')
    expect(svg.attributes('aria-label')).toContain('12')
    const heights = w.findAll('rect').map((r) => Number(r.attributes('height')))
    expect(heights[2]).toBeGreaterThan(heights[0]!)
    expect(w.findAll('tbody tr')).toHaveLength(3)
    expect(w.text()).toContain('Total 12')
  })
})

describe('AdminPlanForm', () => {
  it('shows what is wrong next to each field before asking the server', async () => {
    const { calls } = fakeServer({})
    const w = await mountSuspended(PlanForm, { props: { plan } })
    await w.get('[data-testid="plan-price"]').setValue('twenty')
    await w.get('[data-testid="plan-concurrent"]').setValue('0')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls).toEqual([])
    const price = w.get('[data-testid="plan-price"]')
    expect(price.attributes('aria-invalid')).toBe('true')
    const describedBy = price.attributes('aria-describedby')!.split(' ')
    const errorBox = w.get(`[id="${describedBy.find((d) => d.endsWith('-error'))}"]`)
    expect(errorBox.text()).toContain('Enter an amount of 0 or more')
    expect(w.text()).toContain('Enter a whole number between 1 and 1,000.')
    expect(w.get('[data-testid="plan-code"]').attributes('readonly')).toBeDefined()
  })

  it('saves and shows the server’s words next to the field it names', async () => {
    let fail = true
    const { calls } = fakeServer({
      AdminUpsertPlan: (v) => (fail
        ? { error: gqlError('BAD_USER_INPUT', 'must be an ISO 4217 code such as usd', 'input.currency') }
        : { data: { upsertPlan: { ...plan, name: v.input.name } } }),
    })
    const w = await mountSuspended(PlanForm, { props: { plan } })
    await w.get('[data-testid="plan-name"]').setValue('Pro+')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]!.vars.input).toMatchObject({ code: 'pro', name: 'Pro+', monthlyPriceCents: 2900, overagePricePer1000Cents: 20 })
    expect(w.get('[data-testid="plan-currency"]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('must be an ISO 4217 code such as usd')
    fail = false
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.emitted('saved')?.[0]?.[0]).toMatchObject({ name: 'Pro+' })
  })

  it('starts with the plan’s Stripe price and API limits, and sends them back unchanged', async () => {
    const { calls } = fakeServer({ AdminUpsertPlan: (v) => ({ data: { upsertPlan: { ...plan, ...v.input } } }) })
    const w = await mountSuspended(PlanForm, { props: { plan } })
    expect((w.get('[data-testid="plan-stripe"]').element as HTMLInputElement).value).toBe('price_pro')
    expect((w.get('[data-testid="plan-rpm"]').element as HTMLInputElement).value).toBe('1200')
    expect((w.get('[data-testid="plan-websockets"]').element as HTMLInputElement).value).toBe('25')
    expect((w.get('[data-testid="plan-subscriptions"]').element as HTMLInputElement).value).toBe('200')
    expect(w.text()).not.toContain('enter it again')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]!.vars.input).toMatchObject({ stripePriceId: 'price_pro', requestsPerMinute: 1200, maxWebsockets: 25, maxSubscriptions: 200 })
  })

  it('explains the API limits’ ranges next to each limit', async () => {
    const { calls } = fakeServer({})
    const w = await mountSuspended(PlanForm, { props: { plan } })
    await w.get('[data-testid="plan-rpm"]').setValue('0')
    await w.get('[data-testid="plan-websockets"]').setValue('1001')
    await w.get('[data-testid="plan-subscriptions"]').setValue('lots')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls).toEqual([])
    const errorOf = (testid: string) => {
      const el = w.get(`[data-testid="${testid}"]`)
      expect(el.attributes('aria-invalid')).toBe('true')
      return w.get(`[id="${el.attributes('aria-describedby')!.split(' ').find((d) => d.endsWith('-error'))}"]`).text()
    }
    expect(errorOf('plan-rpm')).toBe('Enter a whole number between 1 and 1,000,000.')
    expect(errorOf('plan-websockets')).toBe('Enter a whole number between 1 and 1,000.')
    expect(errorOf('plan-subscriptions')).toBe('Enter a whole number between 1 and 10,000.')
  })

  it('puts a limit the server refuses next to its field', async () => {
    fakeServer({ AdminUpsertPlan: () => ({ error: gqlError('BAD_USER_INPUT', 'must be between 1 and 1000', 'input.maxWebsockets') }) })
    const w = await mountSuspended(PlanForm, { props: { plan } })
    await w.get('form').trigger('submit')
    await flushPromises()
    const ws = w.get('[data-testid="plan-websockets"]')
    expect(ws.attributes('aria-invalid')).toBe('true')
    const box = w.get(`[id="${ws.attributes('aria-describedby')!.split(' ').find((d) => d.endsWith('-error'))}"]`)
    expect(box.text()).toContain('must be between 1 and 1000')
    expect(w.get('[data-testid="plan-rpm"]').attributes('aria-invalid')).toBe('false')
  })

  it('removes the Stripe price when the field is cleared, and says so first', async () => {
    const { calls } = fakeServer({ AdminUpsertPlan: (v) => ({ data: { upsertPlan: { ...plan, stripePriceId: v.input.stripePriceId || null } } }) })
    const w = await mountSuspended(PlanForm, { props: { plan } })
    const stripe = w.get('[data-testid="plan-stripe"]')
    const hint = () => w.get(`[id="${stripe.attributes('aria-describedby')!.split(' ').find((d) => d.endsWith('-hint'))}"]`).text()
    expect(hint()).not.toContain('removes')
    await stripe.setValue('')
    expect(hint()).toContain("saving removes the plan's Stripe price")
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]!.vars.input.stripePriceId).toBe('')
    expect(w.emitted('saved')?.[0]?.[0]).toMatchObject({ stripePriceId: null })
  })

  it('leaves a new plan without a Stripe price and with the default limits', async () => {
    const { calls } = fakeServer({ AdminUpsertPlan: (v) => ({ data: { upsertPlan: { ...plan, ...v.input, stripePriceId: null } } }) })
    const w = await mountSuspended(PlanForm)
    expect(w.text()).not.toContain('removes')
    await w.get('[data-testid="plan-code"]').setValue('team')
    await w.get('[data-testid="plan-name"]').setValue('Team')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]!.vars.input).toMatchObject({ code: 'team', stripePriceId: null, requestsPerMinute: 60, maxWebsockets: 5, maxSubscriptions: 20 })
  })
})

describe('AdminBroadcastForm', () => {
  it('asks for a subject and a body, in words next to them', async () => {
    const { calls } = fakeServer({ AdminPlans: () => ({ data: { plans: [plan] } }) })
    const w = await mountSuspended(BroadcastForm)
    await flushPromises()
    expect(w.find('[data-testid="broadcast-plan-pro"]').exists()).toBe(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="broadcast-subject"]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('Enter a subject of 1 to 200 characters.')
    expect(w.text()).toContain('Enter the message')
    expect(calls.filter((c) => c.op === 'AdminCreateBroadcast')).toEqual([])
  })
})

describe('AdminBroadcastProgress', () => {
  it('says how many were sent and failed of the total', async () => {
    const w = await mountSuspended(BroadcastProgress, { props: { broadcast: { recipients: 200, sent: 150, failed: 10, canceled: 0, status: 'SENDING' } } })
    expect(w.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('80')
    expect(w.text()).toContain('150 sent, 10 failed, of 200 recipients')
  })
  it('says how many the cancel stopped', async () => {
    const w = await mountSuspended(BroadcastProgress, { props: { broadcast: { recipients: 200, sent: 150, failed: 10, canceled: 40, status: 'CANCELED' } } })
    expect(w.text()).toContain('150 sent, 10 failed, 40 stopped by the cancel, of 200 recipients')
  })
})

describe('admin users page', () => {
  it('explains in words that the last admin cannot be demoted', async () => {
    fakeServer({
      AdminUsers: () => ({
        data: { users: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ cursor: 'c', node: {
          id: 'u1', email: 'boss@example.test', displayName: null, role: 'ADMIN', createdAt: '2026-01-01T00:00:00Z', plan: { id: 'p', code: 'free', name: 'Free' },
        } }] } },
      }),
      AdminSetUserRole: () => ({ error: gqlError('CONFLICT', 'the last admin cannot be demoted') }),
    })
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', '') }
    HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open') }
    const w = await mountSuspended(UsersPage)
    await flushPromises()
    expect(w.text()).toContain('boss@example.test')
    await w.get('[data-testid="make-user"]').trigger('click')
    await flushPromises()
    await w.get('[data-testid="confirm"]').trigger('click')
    await flushPromises()
    const err = w.get('[data-error-code="LAST_ADMIN"]')
    expect(err.text()).toBe('This is the last admin, so Koe keeps them an admin. Make someone else an admin first.')
    expect(w.get('[data-testid="user-role"]').text()).toBe('Admin')
  })
})

describe('admin overview page', () => {
  it('shows the KPIs of the range and a chart per series', async () => {
    const { calls } = fakeServer({
      AdminPlans: () => ({ data: { plans: [plan] } }),
      AdminKpis: () => ({
        data: { kpis: {
          mrrCents: 5800, activeSubscriptions: 2, newUsers: 3, generations: 40, charactersGenerated: 12345, successRate: 0.975,
          daily: [
            { date: '2026-03-01', newUsers: 1, generations: 10, characters: 2345, revenueCents: 2900 },
            { date: '2026-03-02', newUsers: 2, generations: 30, characters: 10000, revenueCents: 2900 },
          ],
        } },
      }),
    })
    const w = await mountSuspended(OverviewPage)
    await flushPromises()
    expect(calls.some((c) => c.op === 'AdminKpis')).toBe(true)
    expect(w.get('[data-testid="kpi-mrr"]').text()).toContain('$58.00')
    expect(w.get('[data-testid="kpi-characters"]').text()).toContain('12,345')
    expect(w.get('[data-testid="kpi-success"]').text()).toContain('97.5%')
    for (const id of ['chart-generations', 'chart-characters', 'chart-new-users', 'chart-revenue']) {
      expect(w.get(`[data-testid="${id}"]`).findAll('[data-testid="chart-bar"]')).toHaveLength(2)
    }
  })
})
