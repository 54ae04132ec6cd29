import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import { useNotificationsStore, type Notice } from '~/stores/notifications'
import NotificationsBell from '~/components/notifications/Bell.vue'
import NotificationPreferencesForm from '~/components/account/NotificationPreferencesForm.vue'
import { fakeServer, gqlError, settle } from './account-fakes'

function notice(id: string, read = false): Notice {
  return { id, kind: 'generation.succeeded', title: `Title ${id}`, body: `Body ${id}`, readAt: read ? '2026-01-01T00:00:00Z' : null, createdAt: '2026-01-02T03:04:05Z' }
}

const prefs = { emailOnGenerationFinished: true, emailOnUsageThreshold: true, emailOnBilling: true, productNews: false }

function server(unread = 2) {
  let count = unread
  const s = fakeServer({
    UnreadNotificationCount: () => ({ data: { notifications: { totalCount: count } } }),
    Notifications: (v) => ({
      data: {
        notifications: {
          totalCount: 2,
          pageInfo: { hasNextPage: false, endCursor: 'c2' },
          edges: [notice('n1'), notice('n2')].filter((n) => !v.unreadOnly || !n.readAt).map((node) => ({ cursor: node.id, node })),
        },
      },
    }),
    MarkNotificationsRead: (v) => {
      const n = Array.isArray(v.ids) ? v.ids.length : count
      count = Math.max(0, count - n)
      return { data: { markNotificationsRead: n } }
    },
    NotificationPreferences: () => ({ data: { me: { id: 'u1', notificationPreferences: { ...prefs } } } }),
    UpdateNotificationPreferences: (v) => ({ data: { updateNotificationPreferences: { ...prefs, ...(v.input as object) } } }),
  })
  return { ...s, setCount: (n: number) => { count = n } }
}

describe('notifications store', () => {
  let store: ReturnType<typeof useNotificationsStore>
  beforeEach(() => {
    store = useNotificationsStore()
    store.stop()
  })
  afterEach(() => store.stop())

  it('counts unread notifications and adds live ones', async () => {
    const s = server(2)
    store.useClient(s.client)
    store.start()
    await settle()
    expect(s.subscribers()).toBe(1)
    expect(store.unread).toBe(2)
    s.push({ notificationAdded: notice('n3') })
    expect(store.unread).toBe(3)
    expect(store.latest?.id).toBe('n3')
    // A second start does not subscribe twice.
    store.start()
    expect(s.subscribers()).toBe(1)
    store.stop()
    expect(s.subscribers()).toBe(0)
    expect(store.unread).toBe(0)
  })

  it('lists, prepends live arrivals once, and marks read', async () => {
    const s = server(2)
    store.useClient(s.client)
    store.start()
    await store.load(false)
    expect(store.items.map((n) => n.id)).toEqual(['n1', 'n2'])
    s.push({ notificationAdded: notice('n3') })
    s.push({ notificationAdded: notice('n3') })
    expect(store.items.map((n) => n.id)).toEqual(['n3', 'n1', 'n2'])

    s.setCount(3)
    expect(await store.markRead(['n1'])).toBe(true)
    expect(s.callsOf('MarkNotificationsRead')[0]!.variables).toEqual({ ids: ['n1'] })
    expect(store.items.find((n) => n.id === 'n1')!.readAt).not.toBeNull()
    expect(store.items.find((n) => n.id === 'n2')!.readAt).toBeNull()
    expect(store.unread).toBe(2)

    expect(await store.markRead()).toBe(true)
    expect(s.callsOf('MarkNotificationsRead')[1]!.variables).toEqual({ ids: null })
    expect(store.items.every((n) => n.readAt)).toBe(true)
    expect(store.unread).toBe(0)
  })

  it('shows a refused mark-read as an error and changes nothing', async () => {
    const s = server(1)
    s.handlers.MarkNotificationsRead = () => gqlError('BAD_USER_INPUT', '"x" is not a notification id', 'ids')
    store.useClient(s.client)
    await store.load(false)
    expect(await store.markRead(['n1'])).toBe(false)
    expect(store.errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids' })
    expect(store.items.every((n) => !n.readAt)).toBe(true)
  })

  it('saves a preference and puts it back when the server refuses', async () => {
    const s = server()
    store.useClient(s.client)
    await store.loadPreferences()
    expect(store.preferences).toEqual(prefs)
    expect(await store.setPreference('productNews', true)).toBe(true)
    expect(s.callsOf('UpdateNotificationPreferences')[0]!.variables).toEqual({ input: { productNews: true } })
    expect(store.preferences?.productNews).toBe(true)

    s.handlers.UpdateNotificationPreferences = () => gqlError('INTERNAL_SERVER_ERROR', 'request abc')
    expect(await store.setPreference('emailOnBilling', false)).toBe(false)
    expect(store.preferences?.emailOnBilling).toBe(true)
    expect(store.preferenceErrors.emailOnBilling?.[0]?.code).toBe('INTERNAL_SERVER_ERROR')
  })
})

describe('NotificationsBell', () => {
  afterEach(() => useNotificationsStore().stop())

  it('shows the unread count live and names it for screen readers', async () => {
    const s = server(4)
    useNotificationsStore().useClient(s.client)
    const w = await mountSuspended(NotificationsBell)
    await settle()
    const link = w.get('[data-testid="notifications-bell"]')
    expect(link.attributes('href')).toBe('/notifications')
    expect(link.attributes('aria-label')).toBe('Notifications, 4 unread')
    expect(w.get('[data-testid="notifications-unread"]').text()).toBe('4')
    s.push({ notificationAdded: notice('n9') })
    await settle()
    expect(w.get('[data-testid="notifications-unread"]').text()).toBe('5')
    expect(w.get('[data-testid="notifications-announcement"]').text()).toContain('Title n9')
    w.unmount()
    expect(s.subscribers()).toBe(0)
  })

  it('shows no badge when everything is read', async () => {
    const s = server(0)
    useNotificationsStore().useClient(s.client)
    const w = await mountSuspended(NotificationsBell)
    await settle()
    expect(w.find('[data-testid="notifications-unread"]').exists()).toBe(false)
    expect(w.get('[data-testid="notifications-bell"]').attributes('aria-label')).toBe('Notifications, none unread')
    w.unmount()
  })
})

describe('NotificationPreferencesForm', () => {
  afterEach(() => useNotificationsStore().stop())

  it('labels every switch and saves a change', async () => {
    const s = server()
    useNotificationsStore().useClient(s.client)
    const w = await mountSuspended(NotificationPreferencesForm)
    await settle()
    for (const k of ['emailOnGenerationFinished', 'emailOnUsageThreshold', 'emailOnBilling', 'productNews']) {
      const input = w.get(`[data-testid="pref-${k}"]`)
      expect(w.find(`label[for="${input.attributes('id')}"]`).exists()).toBe(true)
    }
    const news = w.get('[data-testid="pref-productNews"]')
    expect((news.element as HTMLInputElement).checked).toBe(false)
    ;(news.element as HTMLInputElement).checked = true
    await news.trigger('change')
    await settle()
    expect(s.callsOf('UpdateNotificationPreferences')).toHaveLength(1)
    expect(w.get('[data-testid="pref-status"]').text()).toBe('Saved.')
    w.unmount()
  })
})
