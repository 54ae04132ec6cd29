import { describe, expect, it, vi } from 'vitest'
import { MeQuery } from '~/graphql/core'
import { createKoeClient, wsUrlFor } from '~/utils/graphqlClient'

const me = { id: 'u1', email: 'a@example.test', displayName: null, role: 'USER', plan: { id: 'p', code: 'free', name: 'Free', includedCharacters: 20000, overagePricePer1000Cents: null, maxCharactersPerGeneration: 5000, maxConcurrentGenerations: 2, __typename: 'Plan' }, usage: { periodEnd: '2026-12-01T00:00:00Z', includedCharacters: 20000, usedCharacters: 0, reservedCharacters: 0, creditCharacters: 0, overageCharacters: 0, remainingCharacters: 20000, __typename: 'Usage' }, __typename: 'User' }

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('createKoeClient', () => {
  it('asks for a fresh token for every request and sends it as a bearer', async () => {
    let n = 0
    const seen: (string | null)[] = []
    const fetch = vi.fn(async (_: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('Authorization'))
      return json({ data: { me } })
    })
    const { client } = createKoeClient({ url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', getToken: async () => `token-${++n}`, fetch: fetch as typeof globalThis.fetch })
    await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise()
    const res = await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise()
    expect(res.data?.me.email).toBe('a@example.test')
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-2'])
  })

  it('sends the interface language as Accept-Language', async () => {
    let lang: string | null = null
    const fetch = vi.fn(async (_: RequestInfo | URL, init?: RequestInit) => {
      lang = new Headers(init?.headers).get('Accept-Language')
      return json({ data: { me } })
    })
    const { client } = createKoeClient({ url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', getToken: async () => 't', getLocale: () => 'ja', fetch: fetch as typeof globalThis.fetch })
    await client.query(MeQuery, {}).toPromise()
    expect(lang).toBe('ja')
  })

  it('sends no Authorization when signed out, and reports UNAUTHENTICATED', async () => {
    const onUnauthenticated = vi.fn()
    const fetch = vi.fn(async (_: RequestInfo | URL, init?: RequestInit) => {
      expect(new Headers(init?.headers).has('Authorization')).toBe(false)
      return json({ errors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] }, 401)
    })
    const { client } = createKoeClient({ url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', getToken: async () => null, onUnauthenticated, fetch: fetch as typeof globalThis.fetch })
    const res = await client.query(MeQuery, {}).toPromise()
    expect(res.error?.graphQLErrors[0]?.extensions.code).toBe('UNAUTHENTICATED')
    expect(onUnauthenticated).toHaveBeenCalledOnce()
  })

  it('derives the websocket URL from the page', () => {
    expect(wsUrlFor({ protocol: 'https:', host: 'koe.example' })).toBe('wss://koe.example/query')
    expect(wsUrlFor({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/query')
  })
})
