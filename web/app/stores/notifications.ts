import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { OperationResult } from '@urql/core'
import {
  MarkNotificationsReadMutation,
  NotificationAddedSubscription,
  NotificationPreferencesQuery,
  NotificationsQuery,
  UnreadNotificationCountQuery,
  UpdateNotificationPreferencesMutation,
} from '~/graphql/account'
import type {
  AccountNotificationFieldsFragment,
  NotificationAddedSubscription as AddedResult,
  NotificationPreferencesQuery as PreferencesResult,
} from '~/gql/graphql'
import { accountClientRef } from '~/utils/account/client'
import { toUiErrors, type UiError } from '~/utils/errors'
import { usePagedConnection } from '~/composables/usePagedConnection'

/** A notification as the app shows it. */
export type Notice = AccountNotificationFieldsFragment

/** Which messages the person gets by email. */
export type NotificationPreferences = PreferencesResult['me']['notificationPreferences']

/** The four email preferences, by field name. */
export type PreferenceKey = Exclude<keyof NotificationPreferences, '__typename'> & string

/** The preference fields, in the order the form shows them. */
export const preferenceKeys: PreferenceKey[] = ['emailOnGenerationFinished', 'emailOnUsageThreshold', 'emailOnBilling', 'productNews']

const PAGE_SIZE = 20
const RESUBSCRIBE_MS = 5000

/**
 * Notifications: the live unread count behind the header's bell (the
 * `notificationAdded` subscription, reconciled with an unread-only count),
 * the paged list, marking read, and the email preferences.
 */
export const useNotificationsStore = defineStore('notifications', () => {
  const client = accountClientRef()

  const unread = ref(0)
  const unreadOnly = ref(false)
  const list = usePagedConnection({
    pageSize: PAGE_SIZE,
    fetch: (page) => client.get()
      .query(NotificationsQuery, { unreadOnly: unreadOnly.value, ...page }, { requestPolicy: 'network-only' })
      .toPromise(),
    connection: (data) => data.notifications,
  })
  // errors: the list's, and those of marking read.
  const { items, totalCount, hasNextPage, loading, loaded, errors } = list
  /** The subscription is open. */
  const live = ref(false)
  /** The newest notification that arrived live (for an announcement). */
  const latest = ref<Notice | null>(null)

  const preferences = ref<NotificationPreferences | null>(null)
  const preferenceErrors = ref<Partial<Record<PreferenceKey | '', UiError[]>>>({})
  const savingPreference = ref<PreferenceKey | null>(null)

  let subscription: { unsubscribe(): void } | null = null
  let wanted = false
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let refreshing: Promise<void> | null = null
  let dirty = false

  /** Asks the server how many notifications are unread. Arrivals while asking trigger another ask. */
  function refreshUnread(): Promise<void> {
    if (refreshing) {
      dirty = true
      return refreshing
    }
    refreshing = (async () => {
      try {
        do {
          dirty = false
          const res = await client.get().query(UnreadNotificationCountQuery, {}, { requestPolicy: 'network-only' }).toPromise()
          if (res.data && !dirty) unread.value = res.data.notifications.totalCount
        } while (dirty)
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  function add(n: Notice) {
    latest.value = n
    if (items.value.some((i) => i.id === n.id)) return
    if (loaded.value && !(unreadOnly.value && n.readAt)) {
      items.value = [n, ...items.value]
      totalCount.value += 1
    }
    if (n.readAt) return
    if (refreshing) dirty = true
    else unread.value += 1
  }

  function onEvent(res: OperationResult<AddedResult>) {
    if (res.data?.notificationAdded) add(res.data.notificationAdded)
    if (res.error) {
      // The socket failed past its own retries: try again a little later.
      live.value = false
      subscription?.unsubscribe()
      subscription = null
      if (wanted && !retryTimer) {
        retryTimer = setTimeout(() => {
          retryTimer = null
          if (wanted) subscribe()
        }, RESUBSCRIBE_MS)
      }
    }
  }

  function subscribe() {
    subscription = client.get().subscription(NotificationAddedSubscription, {}).subscribe(onEvent)
    live.value = true
    void refreshUnread()
  }

  /** Opens the live subscription and counts unread notifications. Idempotent. */
  function start() {
    wanted = true
    if (subscription) return
    subscribe()
  }

  /** Closes the subscription and forgets everything (sign-out, another user). */
  function stop() {
    wanted = false
    if (retryTimer) clearTimeout(retryTimer)
    retryTimer = null
    subscription?.unsubscribe()
    subscription = null
    live.value = false
    unread.value = 0
    list.reset()
    latest.value = null
    preferences.value = null
  }

  /** Loads the first page (all, or unread only). */
  async function load(onlyUnread = unreadOnly.value) {
    unreadOnly.value = onlyUnread
    await list.load()
  }

  /** Appends the next page. */
  async function loadMore() {
    await list.load(true)
  }

  /** Marks the given notifications read, or all of them when ids is omitted. True when it worked. */
  async function markRead(ids?: string[]): Promise<boolean> {
    const res = await client.get().mutation(MarkNotificationsReadMutation, { ids: ids ?? null }).toPromise()
    errors.value = toUiErrors(res.error)
    if (res.error) return false
    const now = new Date().toISOString()
    const hit = (n: Notice) => !n.readAt && (!ids || ids.includes(n.id))
    if (unreadOnly.value) {
      const before = items.value.length
      items.value = items.value.filter((n) => !hit(n))
      totalCount.value = Math.max(0, totalCount.value - (before - items.value.length))
    } else {
      items.value = items.value.map((n) => (hit(n) ? { ...n, readAt: now } : n))
    }
    await refreshUnread()
    return true
  }

  /** Loads the email preferences. */
  async function loadPreferences() {
    const res = await client.get().query(NotificationPreferencesQuery, {}, { requestPolicy: 'network-only' }).toPromise()
    preferenceErrors.value = res.error ? { '': toUiErrors(res.error) } : {}
    if (res.data) preferences.value = { ...res.data.me.notificationPreferences }
  }

  /**
   * Changes one preference at once (shown before the server answers, put
   * back when it refuses). True when saved.
   */
  async function setPreference(key: PreferenceKey, value: boolean): Promise<boolean> {
    if (!preferences.value) return false
    const before = preferences.value[key]
    preferences.value = { ...preferences.value, [key]: value }
    savingPreference.value = key
    try {
      const res = await client.get().mutation(UpdateNotificationPreferencesMutation, { input: { [key]: value } }).toPromise()
      const errs = toUiErrors(res.error)
      preferenceErrors.value = errs.length ? { [key]: errs } : {}
      if (res.data) {
        preferences.value = { ...res.data.updateNotificationPreferences }
        return true
      }
      preferences.value = { ...preferences.value, [key]: before }
      return false
    } finally {
      savingPreference.value = null
    }
  }

  return {
    unread, items, totalCount, hasNextPage, unreadOnly, loading, loaded, errors, live, latest,
    preferences, preferenceErrors, savingPreference,
    start, stop, refreshUnread, load, loadMore, markRead, loadPreferences, setPreference,
    /** Replaces the GraphQL client (tests). */
    useClient: client.set,
  }
})
