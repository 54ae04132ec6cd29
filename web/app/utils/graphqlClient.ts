import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { toUiErrors } from '~/utils/errors'

/** What the GraphQL client needs to know about the page and the principal. */
export interface KoeClientOptions {
  /** Absolute URL of /query over HTTP. */
  url: string
  /** Absolute URL of /query over websockets (ws:// or wss://). */
  wsUrl: string
  /** The bearer credential for the next request: a fresh Firebase ID token or an API key; null when signed out. */
  getToken: () => Promise<string | null>
  /** The interface language, sent as Accept-Language (the server keeps it as a new user's email language). */
  getLocale?: () => string
  /** Called when the server refuses the credential (UNAUTHENTICATED). */
  onUnauthenticated?: () => void
  /** For tests. */
  fetch?: typeof fetch
  webSocketImpl?: unknown
}

/** The urql client plus control over its websocket. */
export interface KoeClient {
  client: Client
  /** Closes the websocket so the next subscription connects with the current credential. */
  restartSocket(): void
}

/**
 * Builds the urql client: HTTP with `Authorization: Bearer` on every request
 * (a fresh token each time), subscriptions over graphql-ws with the token in
 * connection_init, and sign-out on UNAUTHENTICATED.
 */
export function createKoeClient(o: KoeClientOptions): KoeClient {
  const baseFetch = o.fetch ?? globalThis.fetch.bind(globalThis)
  // Restarting closes the open socket with 4205; graphql-ws reconnects (with
  // connectionParams, so the current credential) and resubscribes every live
  // subscription. A socket still connecting is restarted once it opens.
  let restartRequested = false
  let connecting = false
  let restarting = false
  let restartOpen: (() => void) | null = null
  let ws: WsClient | null = null
  const socket = (): WsClient => {
    ws ??= createWsClient({
      url: o.wsUrl,
      lazy: true,
      lazyCloseTimeout: 3000,
      retryAttempts: 5,
      // A restart reconnects at once; a lost connection backs off (1 s, 2 s, 4 s ... plus jitter).
      retryWait: async (retries) => {
        if (restarting) {
          restarting = false
          return
        }
        await new Promise((r) => setTimeout(r, 1000 * 2 ** retries + Math.random() * 1000))
      },
      webSocketImpl: o.webSocketImpl,
      connectionParams: async () => {
        const token = await o.getToken()
        return token ? { Authorization: `Bearer ${token}` } : {}
      },
      // 4401: the server refused the credential; 4403: forbidden. Retrying changes nothing.
      shouldRetry: (e) => !(e && typeof e === 'object' && 'code' in e && [4401, 4403].includes((e as CloseEvent).code)),
      on: {
        connecting: () => { restartOpen = null; connecting = true },
        opened: (s) => {
          connecting = false
          const sock = s as WebSocket
          restartOpen = () => {
            if (sock.readyState !== 1) return
            restarting = true
            sock.close(4205, 'Client Restart')
          }
          if (restartRequested) {
            restartRequested = false
            restartOpen()
          }
        },
        closed: () => { restartOpen = null; connecting = false; restartRequested = false },
      },
    })
    return ws
  }
  const authFetch: typeof fetch = async (input, init) => {
    const token = await o.getToken()
    const headers = new Headers(init?.headers)
    if (token) headers.set('Authorization', `Bearer ${token}`)
    const lang = o.getLocale?.()
    if (lang) headers.set('Accept-Language', lang)
    return baseFetch(input, { ...init, headers })
  }
  const client = new Client({
    url: o.url,
    fetch: authFetch,
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (toUiErrors(error).some((e) => e.code === 'UNAUTHENTICATED')) o.onUnauthenticated?.()
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' }
          return {
            subscribe(sink) {
              const unsubscribe = socket().subscribe(input, sink)
              return { unsubscribe }
            },
          }
        },
      }),
    ],
  })
  return {
    client,
    restartSocket() {
      if (restartOpen) restartOpen()
      else if (connecting) restartRequested = true
    },
  }
}

/** The websocket URL of /query on the page's origin. */
export function wsUrlFor(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/query`
}
