// A stand-in for the GraphQL server in admin unit tests: the app's urql
// client answers each operation (by name) with what the test says.
import { vi } from 'vitest'
import { CombinedError, type Client } from '@urql/core'
import type { DocumentNode, OperationDefinitionNode } from 'graphql'

/** What an operation answers. */
export type Answer = { data?: unknown; error?: CombinedError }
export type Handler = (vars: Record<string, any>) => Answer

/** One operation the store sent. */
export interface Call {
  op: string
  vars: Record<string, any>
}

function opName(doc: DocumentNode): string {
  const def = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')
  return def?.name?.value ?? ''
}

/** Routes the client's query and mutation calls to handlers by operation name. */
export function fakeServer(handlers: Record<string, Handler>): { calls: Call[] } {
  const client = useNuxtApp().$urql as Client
  const calls: Call[] = []
  const run = (doc: DocumentNode, vars: Record<string, any>) => {
    const op = opName(doc)
    calls.push({ op, vars })
    const h = handlers[op]
    const res: Answer = h ? h(vars) : { error: new CombinedError({ networkError: new Error(`no handler for ${op}`) }) }
    return { toPromise: () => Promise.resolve({ ...res, operation: {} as never, stale: false, hasNext: false }) }
  }
  vi.spyOn(client, 'query').mockImplementation(run as never)
  vi.spyOn(client, 'mutation').mockImplementation(run as never)
  return { calls }
}

/** A GraphQL error answer with extensions.code (and .field). */
export function gqlError(code: string, message: string, field?: string): CombinedError {
  return new CombinedError({ graphQLErrors: [{ message, extensions: field ? { code, field } : { code } }] })
}
