import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAdminUsersStore } from '~/stores/adminUsers'
import { useAdminVoicesStore } from '~/stores/adminVoices'
import { useAdminBroadcastsStore, type AdminBroadcast } from '~/stores/adminBroadcasts'
import { useAdminPlansStore } from '~/stores/adminPlans'
import { useAdminKpisStore } from '~/stores/adminKpis'
import { fakeServer, gqlError } from './admin-fakeClient'

const page = <T>(nodes: T[], hasNextPage = false) => ({
  totalCount: nodes.length + (hasNextPage ? 1 : 0),
  pageInfo: { hasNextPage, endCursor: hasNextPage ? 'c1' : null },
  edges: nodes.map((node, i) => ({ cursor: `c${i}`, node })),
})
const user = (id: string, role: 'USER' | 'ADMIN', email = `${id}@example.test`) => ({
  id, email, displayName: null, role, createdAt: '2026-01-01T00:00:00Z', disabledAt: null as string | null, plan: { id: 'pl', code: 'free', name: 'Free' },
})
const broadcast = (id: string, status: AdminBroadcast['status']): AdminBroadcast => ({
  id, subject: `S ${id}`, status, sendAt: '2026-06-01T00:00:00Z', optimizeSendTime: false, recipients: 10, sent: 3, failed: 1, canceled: 0, createdAt: '2026-05-01T00:00:00Z',
})

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.restoreAllMocks())

describe('admin users store', () => {
  it('searches and pages through users', async () => {
    const { calls } = fakeServer({
      AdminUsers: (v) => ({ data: { users: v.after ? page([user('u3', 'USER')]) : page([user('u1', 'ADMIN'), user('u2', 'USER')], true) } }),
    })
    const s = useAdminUsersStore()
    s.search = '  ex  '
    await s.load()
    expect(s.users.map((u) => u.id)).toEqual(['u1', 'u2'])
    expect(s.hasNextPage).toBe(true)
    await s.load(true)
    expect(s.users.map((u) => u.id)).toEqual(['u1', 'u2', 'u3'])
    expect(calls.map((c) => c.vars)).toEqual([
      { search: 'ex', role: null, first: 25, after: null },
      { search: 'ex', role: null, first: 25, after: 'c1' },
    ])
  })

  it('shows one role when asked', async () => {
    const { calls } = fakeServer({
      AdminUsers: (v) => ({ data: { users: page([user('u1', 'ADMIN'), user('u2', 'USER')].filter((u) => !v.role || u.role === v.role)) } }),
    })
    const s = useAdminUsersStore()
    s.role = 'ADMIN'
    await s.load()
    expect(s.users.map((u) => u.id)).toEqual(['u1'])
    s.role = ''
    await s.load()
    expect(s.users.map((u) => u.id)).toEqual(['u1', 'u2'])
    expect(calls.map((c) => c.vars.role)).toEqual(['ADMIN', null])
  })

  it('changes a role and shows it', async () => {
    fakeServer({
      AdminUsers: () => ({ data: { users: page([user('u2', 'USER')]) } }),
      AdminSetUserRole: (v) => ({ data: { setUserRole: { id: v.userId, role: v.role } } }),
    })
    const s = useAdminUsersStore()
    await s.load()
    expect(await s.setRole('u2', 'ADMIN')).toBe(true)
    expect(s.users[0]!.role).toBe('ADMIN')
    expect(s.roleErrors.u2).toBeUndefined()
  })

  it('turns the refusal to demote the last admin into LAST_ADMIN', async () => {
    fakeServer({
      AdminUsers: () => ({ data: { users: page([user('u1', 'ADMIN')]) } }),
      AdminSetUserRole: () => ({ error: gqlError('CONFLICT', 'the last admin cannot be demoted') }),
    })
    const s = useAdminUsersStore()
    await s.load()
    expect(await s.setRole('u1', 'USER')).toBe(false)
    expect(s.users[0]!.role).toBe('ADMIN')
    expect(s.roleErrors.u1?.map((e) => e.code)).toEqual(['LAST_ADMIN'])
    expect(s.saving.u1).toBe(false)
  })

  it('disables and enables a user and shows it', async () => {
    const { calls } = fakeServer({
      AdminUsers: () => ({ data: { users: page([user('u2', 'USER')]) } }),
      AdminSetUserDisabled: (v) => ({ data: { setUserDisabled: { id: v.userId, disabledAt: v.disabled ? '2026-02-01T00:00:00Z' : null } } }),
    })
    const s = useAdminUsersStore()
    await s.load()
    expect(await s.setDisabled('u2', true)).toBe(true)
    expect(s.users[0]!.disabledAt).toBe('2026-02-01T00:00:00Z')
    expect(await s.setDisabled('u2', false)).toBe(true)
    expect(s.users[0]!.disabledAt).toBeNull()
    expect(calls.filter((c) => c.op === 'AdminSetUserDisabled').map((c) => c.vars)).toEqual([
      { userId: 'u2', disabled: true },
      { userId: 'u2', disabled: false },
    ])
  })

  it('keeps the refusal to disable the last admin', async () => {
    fakeServer({
      AdminUsers: () => ({ data: { users: page([user('u1', 'ADMIN')]) } }),
      AdminSetUserDisabled: () => ({ error: gqlError('CONFLICT', 'the last admin cannot be disabled') }),
    })
    const s = useAdminUsersStore()
    await s.load()
    expect(await s.setDisabled('u1', true)).toBe(false)
    expect(s.users[0]!.disabledAt).toBeNull()
    expect(s.roleErrors.u1?.map((e) => e.code)).toEqual(['CONFLICT'])
    expect(s.saving.u1).toBe(false)
  })

  it('keeps a load error in words', async () => {
    fakeServer({ AdminUsers: () => ({ error: gqlError('FORBIDDEN', 'operators only') }) })
    const s = useAdminUsersStore()
    await s.load()
    expect(s.error?.code).toBe('FORBIDDEN')
  })
})

describe('admin voices store', () => {
  const voice = (id: string, enabled: boolean) => ({ id, name: id, language: 'en', languageName: 'English', gender: null, engine: 'espeak-ng', enabled })

  it('passes filters and toggles a voice', async () => {
    const { calls } = fakeServer({
      AdminVoices: () => ({ data: { voices: page([voice('v1', true), voice('v2', false)]) } }),
      AdminSetVoiceEnabled: (v) => ({ data: { setVoiceEnabled: { id: v.id, enabled: v.enabled } } }),
    })
    const s = useAdminVoicesStore()
    s.language = 'en'
    await s.load()
    expect(calls[0]!.vars).toEqual({ filter: { search: null, language: 'en', engine: null, enabled: null }, first: 50, after: null })
    expect(await s.setEnabled('v1', false)).toBe(true)
    expect(s.voices.find((v) => v.id === 'v1')?.enabled).toBe(false)
    s.state = 'off'
    await s.load()
    s.state = 'on'
    await s.load()
    expect(calls.filter((c) => c.op === 'AdminVoices').map((c) => (c.vars.filter as { enabled: boolean | null }).enabled)).toEqual([null, false, true])
  })

  it('puts the switch back when the server refuses', async () => {
    fakeServer({
      AdminVoices: () => ({ data: { voices: page([voice('v1', true)]) } }),
      AdminSetVoiceEnabled: () => ({ error: gqlError('NOT_FOUND', 'no voice v1') }),
    })
    const s = useAdminVoicesStore()
    await s.load()
    const pending = s.setEnabled('v1', false)
    expect(s.voices[0]!.enabled).toBe(false) // shown at once
    expect(await pending).toBe(false)
    expect(s.voices[0]!.enabled).toBe(true)
    expect(s.toggleErrors.v1?.[0]?.code).toBe('NOT_FOUND')
  })
})

describe('admin plans store', () => {
  const plan = (code: string, cents: number) => ({
    id: `pl_${code}`, code, name: code, monthlyPriceCents: cents, currency: 'usd', includedCharacters: 1, overagePricePer1000Cents: null,
    maxConcurrentGenerations: 1, maxCharactersPerGeneration: 1, requestsPerMinute: 60, maxWebsockets: 5, maxSubscriptions: 20, features: [],
    stripePriceId: null, purchasable: false,
  })
  const input = { code: 'team', name: 'Team', monthlyPriceCents: 1500, currency: 'usd', includedCharacters: 1, maxConcurrentGenerations: 1, maxCharactersPerGeneration: 1 }

  it('saves a plan into its place, cheapest first', async () => {
    fakeServer({
      AdminPlans: () => ({ data: { plans: [plan('free', 0), plan('pro', 2900)] } }),
      AdminUpsertPlan: () => ({ data: { upsertPlan: plan('team', 1500) } }),
    })
    const s = useAdminPlansStore()
    await s.load()
    const res = await s.save(input)
    expect(res.plan?.code).toBe('team')
    expect(s.plans.map((p) => p.code)).toEqual(['free', 'team', 'pro'])
  })

  it('keys the server’s field errors by form field', async () => {
    fakeServer({ AdminUpsertPlan: () => ({ error: gqlError('BAD_USER_INPUT', 'must be 1 to 100 characters', 'input.name') }) })
    const res = await useAdminPlansStore().save(input)
    expect(res.plan).toBeUndefined()
    expect(Object.keys(res.errors)).toEqual(['name'])
    expect(res.errors.name![0]!.message).toBe('must be 1 to 100 characters')
  })

  it('keys an API limit the server refuses by its form field', async () => {
    fakeServer({ AdminUpsertPlan: () => ({ error: gqlError('BAD_USER_INPUT', 'must be between 1 and 1000', 'input.maxWebsockets') }) })
    const res = await useAdminPlansStore().save({ ...input, maxWebsockets: 0 })
    expect(Object.keys(res.errors)).toEqual(['maxWebsockets'])
  })
})

describe('admin broadcasts store', () => {
  it('lists, creates on top and cancels', async () => {
    fakeServer({
      AdminBroadcasts: () => ({ data: { broadcasts: page([broadcast('b1', 'SENT')]) } }),
      AdminCreateBroadcast: () => ({ data: { createBroadcast: broadcast('b2', 'SCHEDULED') } }),
      AdminCancelBroadcast: (v) => ({ data: { cancelBroadcast: broadcast(v.id, 'CANCELED') } }),
    })
    const s = useAdminBroadcastsStore()
    await s.load()
    expect(s.anyActive).toBe(false)
    const made = await s.create({ subject: 'S', textBody: 'T' })
    expect(made.broadcast?.id).toBe('b2')
    expect(s.broadcasts.map((b) => b.id)).toEqual(['b2', 'b1'])
    expect(s.anyActive).toBe(true)
    expect(await s.cancel('b2')).toBe(true)
    expect(s.broadcasts[0]!.status).toBe('CANCELED')
    expect(s.anyActive).toBe(false)
  })

  it('shows why a cancel was refused', async () => {
    fakeServer({ AdminCancelBroadcast: () => ({ error: gqlError('CONFLICT', 'the broadcast is already sent') }) })
    const s = useAdminBroadcastsStore()
    expect(await s.cancel('b1')).toBe(false)
    expect(s.cancelErrors.b1?.[0]?.code).toBe('CONFLICT')
  })

  it('puts a bad send time next to its field', async () => {
    fakeServer({ AdminCreateBroadcast: () => ({ error: gqlError('BAD_USER_INPUT', 'is in the past', 'input.sendAt') }) })
    const res = await useAdminBroadcastsStore().create({ subject: 'S', textBody: 'T', sendAt: '2020-01-01T00:00:00Z' })
    expect(res.errors.sendAt?.[0]?.message).toBe('is in the past')
  })
})

describe('admin KPIs store', () => {
  it('asks for the half-open range of the picked days', async () => {
    const { calls } = fakeServer({
      AdminKpis: () => ({ data: { kpis: { mrrCents: 0, activeSubscriptions: 0, newUsers: 1, generations: 2, charactersGenerated: 3, successRate: 1, daily: [] } } }),
    })
    const s = useAdminKpisStore()
    s.from = '2026-03-01'
    s.to = '2026-03-31'
    await s.load((r) => r)
    expect(calls[0]!.vars).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' })
    expect(s.kpis?.generations).toBe(2)
  })

  it('does not ask the server for a reversed range', async () => {
    const { calls } = fakeServer({})
    const s = useAdminKpisStore()
    s.from = '2026-03-31'
    s.to = '2026-03-01'
    await s.load((r) => `rule:${r}`)
    expect(calls).toEqual([])
    expect(s.errors.to?.[0]?.message).toBe('rule:order')
  })
})
