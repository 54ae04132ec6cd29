import { defineStore } from 'pinia'
import { ref } from 'vue'
import { AdminSetVoiceEnabledMutation, AdminVoicesQuery } from '~/graphql/admin'
import type { AdminVoicesQuery as VoicesResult } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh } from '~/stores/adminShared'
import { usePagedConnection } from '~/composables/usePagedConnection'

/** A voice as the admin list shows it. */
export type AdminVoice = VoicesResult['voices']['edges'][number]['node']

/** Voices per page. */
export const ADMIN_VOICES_PAGE = 50

/** The catalog for operators (disabled voices included), with on/off switches. */
export const useAdminVoicesStore = defineStore('adminVoices', () => {
  const client = adminClient()
  const search = ref('')
  const language = ref('')
  const engine = ref('')
  /** '' for all, 'on' or 'off' for voices switched on or off. */
  const state = ref<'' | 'on' | 'off'>('')
  // load(): the first page for the current filters; load(true): the next page.
  const { items: voices, totalCount, hasNextPage, loading, error, load } = usePagedConnection({
    pageSize: ADMIN_VOICES_PAGE,
    fetch: (page) => {
      const filter = {
        search: search.value.trim() || null,
        language: language.value.trim() || null,
        engine: engine.value.trim() || null,
        enabled: state.value ? state.value === 'on' : null,
      }
      return adminFetchFresh(client, AdminVoicesQuery, { filter, ...page })
    },
    connection: (data) => data.voices,
  })
  /** Switches in flight, by voice id. */
  const saving = ref<Record<string, boolean>>({})
  /** The last switch error, by voice id. */
  const toggleErrors = ref<Record<string, UiError[]>>({})

  function patch(id: string, enabled: boolean) {
    voices.value = voices.value.map((v) => (v.id === id ? { ...v, enabled } : v))
  }

  /** Turns a voice on or off: shown at once, put back when the server refuses. */
  async function setEnabled(id: string, enabled: boolean): Promise<boolean> {
    const before = voices.value.find((v) => v.id === id)?.enabled ?? !enabled
    patch(id, enabled)
    saving.value = { ...saving.value, [id]: true }
    const { [id]: _old, ...rest } = toggleErrors.value
    toggleErrors.value = rest
    const res = await client.mutation(AdminSetVoiceEnabledMutation, { id, enabled }).toPromise()
    saving.value = { ...saving.value, [id]: false }
    const changed = res.data?.setVoiceEnabled
    if (!changed) {
      patch(id, before)
      toggleErrors.value = { ...toggleErrors.value, [id]: toUiErrors(res.error) }
      return false
    }
    patch(changed.id, changed.enabled)
    return true
  }

  return { search, language, engine, state, voices, totalCount, hasNextPage, loading, error, saving, toggleErrors, load, setEnabled }
})
