import { describe, expect, it, vi } from 'vitest'
import { MeQuery, MyGenerationUpdatesSubscription } from '~/graphql/core'
import { createKoeClient, wsUrlFor } from '~/utils/graphqlClient'

const me = { id: 'u1', email: 'a@example.test', displayName: null, role: 'USER', plan: { id: 'p', code: 'free', name: 'Free', includedCharacters: 20000, overagePricePer1000Cents: null, maxCharactersPerGeneration: 5000, maxConcurrentGenerations: 2, __typename: 'Plan' }, usage: { periodEnd: '2026-12-01T00:00:00Z', includedCharacters: 20000, usedCharacters: 0, reservedCharacters: 0, creditCharacters: 0, overageCharacters: 0, remainingCharacters: 20000, __typename: 'Usage' }, __typename: 'User' }

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

/** A graphql-transport-ws server in the page: acknowledges connection_init (unless refusing), closes when told. */
class FakeSocket {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSING = 2
  static CLOSED = 3
  static opened: FakeSocket[] = []
  static refuseInit = false
  readyState = FakeSocket.CONNECTING
  protocol = 'graphql-transport-ws'
  sent: { id?: string; type: string; payload?: Record<string, unknown> }[] = []
  onopen: (() => void) | null = null
  onmessage: ((e: { data: string }) => void) | null = null
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((e: unknown) => void) | null = null
  constructor(public url: string) {
    FakeSocket.opened.push(this)
    setTimeout(() => { this.readyState = FakeSocket.OPEN; this.onopen?.() })
  }

  send(data: string) {
    const m = JSON.parse(data)
    this.sent.push(m)
    if (m.type !== 'connection_init') return
    if (FakeSocket.refuseInit) this.serverClose(4401, 'Unauthorized: the API key is not valid')
    else setTimeout(() => this.receive({ type: 'connection_ack' }))
  }

  receive(m: unknown) { this.onmessage?.({ data: JSON.stringify(m) }) }
  close(code = 1000, reason = '') { this.serverClose(code, reason) }
  serverClose(code: number, reason: string) {
    if (this.readyState === FakeSocket.CLOSED) return
    this.readyState = FakeSocket.CLOSED
    setTimeout(() => this.onclose?.({ code, reason, wasClean: true }))
  }

  subscribed() { return this.sent.find((m) => m.type === 'subscribe') }
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

  it('carries on after the server ends the socket at its token\'s expiry: a new socket with a fresh token, the subscription resumed', async () => {
    FakeSocket.opened = []
    FakeSocket.refuseInit = false
    const asked: (boolean | undefined)[] = []
    let n = 0
    const { client } = createKoeClient({
      url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', webSocketImpl: FakeSocket,
      getToken: async (opts) => { asked.push(opts?.forceRefresh); return `token-${++n}` },
    })
    const results: { error?: unknown; data?: unknown }[] = []
    const sub = client.subscription(MyGenerationUpdatesSubscription, {}).subscribe((r) => results.push(r))
    await vi.waitFor(() => expect(FakeSocket.opened[0]?.subscribed()).toBeDefined())
    expect(FakeSocket.opened[0]!.sent[0]!.payload).toEqual({ Authorization: 'Bearer token-1' })

    FakeSocket.opened[0]!.serverClose(4401, 'Unauthorized: the ID token expired; reconnect with a fresh one')
    await vi.waitFor(() => expect(FakeSocket.opened[1]?.subscribed()).toBeDefined())
    expect(FakeSocket.opened[1]!.sent[0]!.payload).toEqual({ Authorization: 'Bearer token-2' })
    expect(asked).toEqual([undefined, true])
    expect(results).toEqual([]) // no error reached the page

    const event = { status: 'RUNNING', progress: 0.5, chunksDone: 1, chunksTotal: 2, generation: null, __typename: 'GenerationEvent' }
    FakeSocket.opened[1]!.receive({ id: FakeSocket.opened[1]!.subscribed()!.id, type: 'next', payload: { data: { myGenerationUpdates: event } } })
    await vi.waitFor(() => expect(results).toHaveLength(1))
    expect(results[0]!.error).toBeUndefined()
    sub.unsubscribe()
  })

  it('does not retry a socket refused at connection_init', async () => {
    FakeSocket.opened = []
    FakeSocket.refuseInit = true
    const { client } = createKoeClient({ url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', webSocketImpl: FakeSocket, getToken: async () => 'koe_revoked' })
    const results: { error?: unknown }[] = []
    const sub = client.subscription(MyGenerationUpdatesSubscription, {}).subscribe((r) => results.push(r))
    await vi.waitFor(() => expect(results).toHaveLength(1))
    expect(results[0]!.error).toBeDefined()
    expect(FakeSocket.opened).toHaveLength(1)
    sub.unsubscribe()
    FakeSocket.refuseInit = false
  })
})
