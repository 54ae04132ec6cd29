import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { AdminBroadcastsQuery, AdminCancelBroadcastMutation, AdminCreateBroadcastMutation } from '~/graphql/admin'
import type { AdminBroadcastFieldsFragment, BroadcastInput } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh, adminFieldErrors, adminInvalid } from '~/stores/adminShared'
import { usePagedConnection } from '~/composables/usePagedConnection'

/** A broadcast as the list shows it. */
export type AdminBroadcast = AdminBroadcastFieldsFragment

/** Broadcasts per page. */
export const ADMIN_BROADCASTS_PAGE = 20

/** The compose form, as the text a person types. */
export interface AdminBroadcastFormValues {
  subject: string
  textBody: string
  htmlBody: string
  /** The Japanese version, for people whose language is Japanese; both empty: none. */
  jaSubject: string
  jaTextBody: string
  /** Empty: everyone who accepts product news. */
  planCodes: string[]
  when: 'now' | 'later'
  /** `<input type="datetime-local">` value, in the browser's time zone. */
  sendAtLocal: string
  optimizeSendTime: boolean
}

/** Words for browser-side validation, by rule (translated by the caller). */
export type AdminBroadcastRule = 'subject' | 'textBody' | 'htmlBody' | 'sendAtMissing' | 'sendAtPast'

/** An empty compose form. */
export function adminEmptyBroadcastForm(): AdminBroadcastFormValues {
  return { subject: '', textBody: '', htmlBody: '', jaSubject: '', jaTextBody: '', planCodes: [], when: 'now', sendAtLocal: '', optimizeSendTime: false }
}

const bytes = (s: string) => new TextEncoder().encode(s).length

/** Checks the form with the server's rules and builds the mutation's input. */
export function adminBroadcastFormToInput(
  f: AdminBroadcastFormValues,
  words: (rule: AdminBroadcastRule) => string,
  now: Date = new Date(),
): { input?: BroadcastInput; errors: UiError[] } {
  const errors: UiError[] = []
  const checkWords = (prefix: string, subject: string, text: string) => {
    if (!subject || [...subject].length > 200) errors.push(adminInvalid(`${prefix}subject`, words('subject')))
    if (!text.trim() || bytes(text) > 100_000) errors.push(adminInvalid(`${prefix}textBody`, words('textBody')))
  }
  const subject = f.subject.trim()
  checkWords('', subject, f.textBody)
  if (bytes(f.htmlBody) > 200_000) errors.push(adminInvalid('htmlBody', words('htmlBody')))
  // Field names as the server reports them, so its errors land on the same fields.
  const jaSubject = f.jaSubject.trim()
  const withJapanese = jaSubject !== '' || f.jaTextBody.trim() !== ''
  if (withJapanese) checkWords('translations[0].', jaSubject, f.jaTextBody)
  let sendAt: string | null = null
  if (f.when === 'later') {
    const at = f.sendAtLocal ? new Date(f.sendAtLocal) : null
    if (!at || Number.isNaN(at.getTime())) errors.push(adminInvalid('sendAt', words('sendAtMissing')))
    else if (at.getTime() < now.getTime() - 60_000) errors.push(adminInvalid('sendAt', words('sendAtPast')))
    else sendAt = at.toISOString()
  }
  if (errors.length) return { errors }
  return {
    errors,
    input: {
      subject,
      textBody: f.textBody,
      htmlBody: f.htmlBody.trim() ? f.htmlBody : null,
      translations: withJapanese ? [{ locale: 'ja', subject: jaSubject, textBody: f.jaTextBody }] : null,
      planCodes: f.planCodes.length ? [...f.planCodes] : null,
      sendAt,
      optimizeSendTime: f.optimizeSendTime,
    },
  }
}

/** Whether a broadcast may still be canceled. */
export function isBroadcastActive(b: Pick<AdminBroadcast, 'status'>): boolean {
  return b.status === 'SCHEDULED' || b.status === 'SENDING'
}

/** Broadcasts: compose, list with progress, cancel. */
export const useAdminBroadcastsStore = defineStore('adminBroadcasts', () => {
  const client = adminClient()
  // load(): the newest broadcasts, as many as are shown now, so a refresh
  // keeps the list's length; load(true): the next page.
  const list = usePagedConnection({
    pageSize: ADMIN_BROADCASTS_PAGE,
    keepShownUpTo: 100,
    fetch: (page) => adminFetchFresh(client, AdminBroadcastsQuery, page),
    connection: (data) => data.broadcasts,
  })
  const { items: broadcasts, totalCount, hasNextPage, loading, error, load } = list
  /** Cancels in flight and their errors, by broadcast id. */
  const canceling = ref<Record<string, boolean>>({})
  const cancelErrors = ref<Record<string, UiError[]>>({})
  const anyActive = computed(() => broadcasts.value.some(isBroadcastActive))

  /** Schedules a broadcast; answers it, or the errors keyed by form field. */
  async function create(input: BroadcastInput): Promise<{ broadcast?: AdminBroadcast; errors: Record<string, UiError[]> }> {
    const res = await client.mutation(AdminCreateBroadcastMutation, { input }).toPromise()
    const made = res.data?.createBroadcast
    if (!made) return { errors: adminFieldErrors(res.error) }
    list.dropPending() // its answer would not have the new one
    broadcasts.value = [made, ...broadcasts.value.filter((b) => b.id !== made.id)]
    totalCount.value += 1
    return { broadcast: made, errors: {} }
  }

  /** Stops a broadcast; answers whether it worked (the reason is in cancelErrors). */
  async function cancel(id: string): Promise<boolean> {
    canceling.value = { ...canceling.value, [id]: true }
    const { [id]: _old, ...rest } = cancelErrors.value
    cancelErrors.value = rest
    const res = await client.mutation(AdminCancelBroadcastMutation, { id }).toPromise()
    canceling.value = { ...canceling.value, [id]: false }
    const done = res.data?.cancelBroadcast
    if (!done) {
      cancelErrors.value = { ...cancelErrors.value, [id]: toUiErrors(res.error) }
      return false
    }
    broadcasts.value = broadcasts.value.map((b) => (b.id === done.id ? done : b))
    return true
  }

  return {
    broadcasts, totalCount, hasNextPage, loading, error, canceling, cancelErrors, anyActive, load, create, cancel,
  }
})
