import { computed, ref, shallowRef } from 'vue'
import type { CombinedError } from '@urql/core'
import type { PageInfoFieldsFragment } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'

/** A Relay connection as the list queries select it. */
export interface Connection<N> {
  totalCount: number
  pageInfo: PageInfoFieldsFragment
  edges: { node: N }[]
}

/** The `first` and `after` of a list query. */
export interface PageVariables {
  first: number
  after: string | null
}

/** How a list is fetched and cut into pages. */
export interface PagedConnectionOptions<D, N> {
  /** Runs the list query for one page, with the list's own filters. */
  fetch: (page: PageVariables) => Promise<{ data?: D | null; error?: CombinedError }>
  /** The connection in the query's answer. */
  connection: (data: D) => Connection<N>
  /** Items per page. */
  pageSize: number
  /**
   * A reload asks for as many items as are shown, up to this many, so a
   * list refreshed in place keeps its length. Unset: a reload is one page.
   */
  keepShownUpTo?: number
}

/**
 * A list paged through a Relay connection: the first page (again) with
 * `load()`, the next one appended with `load(true)`. Only the answer of the
 * latest load is shown, so a slow answer to an old filter never overwrites
 * a newer one.
 */
export function usePagedConnection<D, N extends { id: string }>(opts: PagedConnectionOptions<D, N>) {
  const items = shallowRef<N[]>([])
  const totalCount = ref(0)
  const endCursor = ref<string | null>(null)
  const hasNextPage = ref(false)
  const loading = ref(false)
  /** A page has arrived since the last reset. */
  const loaded = ref(false)
  /** The errors of the latest load; the list shown before it stays. */
  const errors = ref<UiError[]>([])
  const error = computed(() => errors.value[0] ?? null)
  let generation = 0

  /**
   * Loads the first page (more=false) or appends the next one. `more` does
   * nothing while a load is under way: the cursor it would continue from
   * belongs to a list about to be replaced.
   */
  async function load(more = false) {
    if (more && (loading.value || !hasNextPage.value)) return
    const mine = ++generation
    loading.value = true
    const shown = opts.keepShownUpTo ? Math.min(opts.keepShownUpTo, Math.max(opts.pageSize, items.value.length)) : opts.pageSize
    try {
      const res = await opts.fetch({ first: more ? opts.pageSize : shown, after: more ? endCursor.value : null })
      if (mine !== generation) return
      errors.value = toUiErrors(res.error)
      if (!res.data) return
      const page = opts.connection(res.data)
      const nodes = page.edges.map((e) => e.node)
      // Rows are keyed by id: one already shown (added here meanwhile) is not shown twice.
      items.value = more ? [...items.value, ...nodes.filter((n) => !items.value.some((k) => k.id === n.id))] : nodes
      totalCount.value = page.totalCount
      endCursor.value = page.pageInfo.endCursor ?? null
      hasNextPage.value = page.pageInfo.hasNextPage
      loaded.value = true
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  /** Ignores the answer of a load under way: it was asked before a change made here since, and would undo it. */
  function dropPending() {
    generation++
    loading.value = false
  }

  /** Forgets the list (sign-out, another user). */
  function reset() {
    dropPending()
    items.value = []
    totalCount.value = 0
    endCursor.value = null
    hasNextPage.value = false
    loaded.value = false
    errors.value = []
  }

  return { items, totalCount, hasNextPage, loading, loaded, errors, error, load, dropPending, reset }
}
