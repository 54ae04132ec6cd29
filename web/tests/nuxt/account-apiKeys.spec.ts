import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import { useApiKeysStore, type ApiKeyRow } from '~/stores/apiKeys'
import ApiKeysPage from '~/pages/api-keys.vue'
import SecretReveal from '~/components/account/SecretReveal.vue'
import { fakeServer, gqlError, settle } from './account-fakes'

function key(id: string, name: string, revoked = false): ApiKeyRow {
  return { id, name, prefix: `koe_${id}`, createdAt: '2026-01-02T03:04:05Z', lastUsedAt: null, revokedAt: revoked ? '2026-01-03T00:00:00Z' : null }
}

function server() {
  let keys: ApiKeyRow[] = [key('k1', 'Old script')]
  return fakeServer({
    ApiKeys: () => ({ data: { apiKeys: keys } }),
    CreateApiKey: (v) => {
      const name = String(v.name)
      if (!name.trim()) return gqlError('BAD_USER_INPUT', 'must be 1 to 100 characters', 'name')
      const k = key(`k${keys.length + 1}`, name)
      keys = [k, ...keys]
      return { data: { createApiKey: { secret: `koe_secret_${k.id}`, apiKey: k } } }
    },
    RevokeApiKey: (v) => {
      const k = keys.find((x) => x.id === v.id)
      if (!k) return gqlError('NOT_FOUND')
      k.revokedAt = '2026-01-04T00:00:00Z'
      return { data: { revokeApiKey: { ...k } } }
    },
  })
}

describe('API keys store', () => {
  let store: ReturnType<typeof useApiKeysStore>
  beforeEach(() => {
    store = useApiKeysStore()
    store.reset()
  })

  it('lists, creates (keeping the secret until dismissed) and revokes', async () => {
    const s = server()
    store.useClient(s.client)
    await store.load()
    expect(store.keys.map((k) => k.name)).toEqual(['Old script'])

    const { created, errors } = await store.create('  CI  ')
    expect(errors).toEqual([])
    expect(s.callsOf('CreateApiKey')[0]!.variables).toEqual({ name: 'CI' })
    expect(created?.secret).toBe('koe_secret_k2')
    expect(store.created?.secret).toBe('koe_secret_k2')
    expect(store.keys.map((k) => k.name)).toEqual(['CI', 'Old script'])
    store.dismissSecret()
    expect(store.created).toBeNull()

    expect(await store.revoke('k1')).toEqual([])
    expect(store.keys.find((k) => k.id === 'k1')?.revokedAt).not.toBeNull()
  })

  it('answers the field error of a refused name and keeps nothing', async () => {
    const s = server()
    store.useClient(s.client)
    const { created, errors } = await store.create('   ')
    expect(created).toBeNull()
    expect(errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    expect(store.created).toBeNull()
  })
})

describe('API keys page', () => {
  afterEach(() => useApiKeysStore().reset())

  it('creates a key, shows its secret once with copy, and hides it when done', async () => {
    const s = server()
    useApiKeysStore().useClient(s.client)
    const writeText = vi.fn(async () => {})
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const w = await mountSuspended(ApiKeysPage)
    await settle()
    expect(w.findAll('[data-testid^="key-k"]')).toHaveLength(1)

    // An empty name is refused next to the field, before asking the server.
    await w.get('[data-testid="create-key-form"]').trigger('submit')
    await settle()
    expect(w.get('#key-name-error').text()).toBe('Give the key a name.')
    expect(w.get('[data-testid="key-name"]').attributes('aria-invalid')).toBe('true')
    expect(s.callsOf('CreateApiKey')).toHaveLength(0)

    await w.get('[data-testid="key-name"]').setValue('Laptop')
    await w.get('[data-testid="create-key-form"]').trigger('submit')
    await settle()
    const secret = w.get('[data-testid="secret"]')
    expect((secret.element as HTMLInputElement).value).toBe('koe_secret_k2')
    expect(w.get('label[for="' + secret.attributes('id') + '"]').text()).toBe('Secret')
    await w.get('[data-testid="copy-secret"]').trigger('click')
    await settle()
    expect(writeText).toHaveBeenCalledWith('koe_secret_k2')
    expect(w.get('[data-testid="copy-status"]').text()).toBe('Copied to the clipboard.')

    await w.get('[data-testid="secret-done"]').trigger('click')
    await settle()
    expect(w.find('[data-testid="secret-reveal"]').exists()).toBe(false)
    expect(w.html()).not.toContain('koe_secret_k2')
    expect(w.findAll('[data-testid^="key-k"]')).toHaveLength(2)
    w.unmount()
  })
})

describe('SecretReveal', () => {
  it('selects the secret for copying by hand when the clipboard is refused', async () => {
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: async () => { throw new Error('denied') } }, configurable: true })
    const w = await mountSuspended(SecretReveal, { props: { name: 'x', secret: 'koe_abc' } })
    await w.get('[data-testid="copy-secret"]').trigger('click')
    await settle()
    expect(w.get('[data-testid="copy-status"]').text()).toContain('Ctrl+C')
  })
})
