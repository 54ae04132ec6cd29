import type { Client } from '@urql/core'
import { tryUseNuxtApp } from '#app'

/**
 * The GraphQL client the account stores talk through: the app's urql client
 * ($urql, provided by plugins/01.urql.ts) unless a test gave its own.
 */
export function accountClientRef() {
  const nuxtApp = tryUseNuxtApp()
  let override: Client | null = null
  return {
    /** The client to use now. */
    get(): Client {
      const c = override ?? (nuxtApp?.$urql as Client | undefined)
      if (!c) throw new Error('no GraphQL client: the urql plugin has not run')
      return c
    },
    /** Replaces the client (tests). */
    set(c: Client | null) {
      override = c
    },
  }
}
