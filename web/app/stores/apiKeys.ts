import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiKeysQuery, CreateApiKeyMutation, RevokeApiKeyMutation } from '~/graphql/account'
import type { AccountApiKeyFieldsFragment } from '~/gql/graphql'
import { accountClientRef } from '~/utils/account/client'
import { toUiErrors, type UiError } from '~/utils/errors'

/** An API key as the list shows it (never its secret). */
export type ApiKeyRow = AccountApiKeyFieldsFragment

/** What creating a key answers: the key, and its secret this once. */
export interface CreatedKey {
  key: ApiKeyRow
  secret: string
}

/**
 * The caller's API keys: list, create (the secret is kept only in memory
 * until the person dismisses it), revoke.
 */
export const useApiKeysStore = defineStore('apiKeys', () => {
  const client = accountClientRef()
  const keys = ref<ApiKeyRow[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const errors = ref<UiError[]>([])
  /** The key just created, with its secret; cleared by dismissSecret(). */
  const created = ref<CreatedKey | null>(null)

  /** Loads every key, newest first (revoked ones included). */
  async function load() {
    loading.value = true
    try {
      const res = await client.get().query(ApiKeysQuery, {}, { requestPolicy: 'network-only' }).toPromise()
      errors.value = toUiErrors(res.error)
      if (res.data) {
        keys.value = [...res.data.apiKeys]
        loaded.value = true
      }
    } finally {
      loading.value = false
    }
  }

  /** Creates a key; its errors are answered (and nothing is kept) when refused. */
  async function create(name: string): Promise<{ created: CreatedKey | null; errors: UiError[] }> {
    const res = await client.get().mutation(CreateApiKeyMutation, { name: name.trim() }).toPromise()
    const errs = toUiErrors(res.error)
    const out = res.data?.createApiKey
    if (!out) return { created: null, errors: errs.length ? errs : [{ code: 'INTERNAL_SERVER_ERROR', message: 'no answer' }] }
    const c: CreatedKey = { key: out.apiKey, secret: out.secret }
    keys.value = [c.key, ...keys.value.filter((k) => k.id !== c.key.id)]
    created.value = c
    return { created: c, errors: [] }
  }

  /** Forgets the secret shown after creation. */
  function dismissSecret() {
    created.value = null
  }

  /** Revokes a key; answers the errors (empty when it worked). */
  async function revoke(id: string): Promise<UiError[]> {
    const res = await client.get().mutation(RevokeApiKeyMutation, { id }).toPromise()
    const errs = toUiErrors(res.error)
    const key = res.data?.revokeApiKey
    if (key) keys.value = keys.value.map((k) => (k.id === key.id ? { ...key } : k))
    return errs
  }

  /** Forgets everything (sign-out). */
  function reset() {
    keys.value = []
    loaded.value = false
    errors.value = []
    created.value = null
  }

  return {
    keys, loading, loaded, errors, created,
    load, create, dismissSecret, revoke, reset,
    /** Replaces the GraphQL client (tests). */
    useClient: client.set,
  }
})
