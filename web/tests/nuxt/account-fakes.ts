// A fake Koe server for the account area's unit tests: a real urql Client
// whose fetch answers from handlers keyed by operation name, and whose
// subscriptions are pushed by the test.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core'

/** What a handler answers: GraphQL data and/or errors. */
export interface FakeAnswer {
  data?: unknown
  errors?: { message: string; extensions?: Record<string, unknown> }[]
}

/** One request the fake server saw. */
export interface FakeCall {
  operationName: string
  variables: Record<string, unknown>
}

type Sink = { next(v: unknown): void; error(e: unknown): void; complete(): void }

/** A GraphQL error answer with extensions.code (and field). */
export function gqlError(code: string, message = code, field?: string): FakeAnswer {
  return { data: null, errors: [{ message, extensions: { code, ...(field ? { field } : {}) } }] }
}

/** Builds the fake server; `handlers` may be changed by the test as it goes. */
export function fakeServer(handlers: Record<string, (vars: Record<string, unknown>) => FakeAnswer> = {}) {
  const calls: FakeCall[] = []
  const sinks = new Set<Sink>()
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const body = JSON.parse(String(init?.body ?? '{}')) as { operationName: string; variables?: Record<string, unknown> }
    const variables = body.variables ?? {}
    calls.push({ operationName: body.operationName, variables })
    const h = handlers[body.operationName]
    const answer = h ? h(variables) : gqlError('INTERNAL_SERVER_ERROR', `no handler for ${body.operationName}`)
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'Content-Type': 'application/json' } })
  }
  const client = new Client({
    url: 'http://koe.test/query',
    fetch,
    requestPolicy: 'network-only',
    preferGetMethod: false,
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: () => ({
          subscribe(sink: Sink) {
            sinks.add(sink)
            return { unsubscribe: () => { sinks.delete(sink) } }
          },
        }),
      }),
    ],
  })
  return {
    client,
    handlers,
    calls,
    /** Requests of one operation. */
    callsOf: (name: string) => calls.filter((c) => c.operationName === name),
    /** Subscriptions open now. */
    subscribers: () => sinks.size,
    /** Sends a subscription event to every subscriber. */
    push(data: unknown) {
      for (const s of sinks) s.next({ data })
    },
  }
}

/** Waits for pending promises and timers of zero delay. */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0))
}
