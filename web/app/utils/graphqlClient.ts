import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { toUiErrors } from '~/utils/errors'

/** What the GraphQL client needs to know about the page and the principal. */
export interface KoeClientOptions {
  /** Absolute URL of /query over HTTP. */
  url: string
  /** Absolute URL of /query over websockets (ws:// or wss://). */
  wsUrl: string
  /**
   * The bearer credential for the next request: a fresh Firebase ID token or an API key; null when signed out.
   * `forceRefresh` asks for a new ID token even if the one held looks unexpired (the server said it expired).
   */
  getToken: (opts?: { forceRefresh?: boolean }) => Promise<string | null>
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

/** The close code with which the server ends a socket whose credential stopped working (an ID token at its exp). */
const UNAUTHORIZED = 4401

function closeCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' ? e.code : undefined
}

/**
 * Builds the urql client: HTTP with `Authorization: Bearer` on every request
 * (a fresh token each time), subscriptions over graphql-ws with the token in
 * connection_init, and sign-out on UNAUTHENTICATED. The server closes a socket
 * at its ID token's expiry (4401) and when the caller's rights went down
 * (4403); the client then reconnects with a fresh token and resubscribes, so
 * nobody notices.
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
  // A socket the server acknowledged and then closed with 4401 ended
  // because its token expired: the next connection forces a fresh token, and
  // the subscriptions it ended (graphql-ws treats 4401 as final) subscribe
  // again. A socket refused at connection_init is not retried.
  let acknowledged = false
  let refreshToken = false
  let expiredClose: unknown = null
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
        const forceRefresh = refreshToken
        refreshToken = false
        const token = await o.getToken(forceRefresh ? { forceRefresh } : undefined)
        return token ? { Authorization: `Bearer ${token}` } : {}
      },
      // 4403: the caller's rights changed; reconnecting gives the current ones
      // (at most retryAttempts times). 4401 never gets here: graphql-ws gives up
      // on it at once (see forwardSubscription).
      shouldRetry: () => true,
      on: {
        connecting: () => { restartOpen = null; connecting = true; acknowledged = false },
        connected: () => { acknowledged = true },
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
        // Runs before the subscriptions hear of the close.
        closed: (e) => {
          restartOpen = null; connecting = false; restartRequested = false
          if (acknowledged && closeCode(e) === UNAUTHORIZED) {
            refreshToken = true
            expiredClose = e
          }
          acknowledged = false
        },
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
              let stopped = false
              let unsubscribe = () => {}
              const run = () => {
                unsubscribe = socket().subscribe(input, {
                  next: sink.next.bind(sink),
                  complete: sink.complete.bind(sink),
                  error(e: unknown) {
                    // The socket's token expired under it: carry on, on a new
                    // socket with a fresh token.
                    if (!stopped && e === expiredClose) run()
                    else sink.error(e)
                  },
                })
              }
              run()
              return { unsubscribe: () => { stopped = true; unsubscribe() } }
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
