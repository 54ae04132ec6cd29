import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AdminSetVoiceEnabledMutation, AdminVoicesQuery } from '~/graphql/admin'
import type { AdminVoicesQuery as VoicesResult } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh } from '~/stores/adminShared'

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
  const voices = ref<AdminVoice[]>([])
  const totalCount = ref(0)
  const endCursor = ref<string | null>(null)
  const hasNextPage = ref(false)
  const loading = ref(false)
  const error = shallowRef<UiError | null>(null)
  /** Switches in flight, by voice id. */
  const saving = ref<Record<string, boolean>>({})
  /** The last switch error, by voice id. */
  const toggleErrors = ref<Record<string, UiError[]>>({})
  let generation = 0

  /** Loads the first page for the current filters (more=false) or the next page. */
  async function load(more = false) {
    const mine = ++generation
    loading.value = true
    const filter = {
      search: search.value.trim() || null,
      language: language.value.trim() || null,
      engine: engine.value.trim() || null,
    }
    const res = await adminFetchFresh(client, AdminVoicesQuery, { filter, first: ADMIN_VOICES_PAGE, after: more ? endCursor.value : null })
    if (mine !== generation) return
    loading.value = false
    if (!res.data) {
      error.value = toUiErrors(res.error)[0] ?? null
      return
    }
    error.value = null
    const page = res.data.voices
    const nodes = page.edges.map((e) => e.node)
    voices.value = more ? [...voices.value, ...nodes] : nodes
    totalCount.value = page.totalCount
    endCursor.value = page.pageInfo.endCursor
    hasNextPage.value = page.pageInfo.hasNextPage
  }

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

  return { search, language, engine, voices, totalCount, hasNextPage, loading, error, saving, toggleErrors, load, setEnabled }
})
