import { describe, expect, it } from 'vitest'
import { CombinedError } from '@urql/core'
import { usePagedConnection, type PageVariables } from '~/composables/usePagedConnection'

type Row = { id: string }
type Answer = { data?: { rows: ReturnType<typeof connection> } | null; error?: CombinedError }

const connection = (ids: string[], endCursor: string | null, totalCount = ids.length) => ({
  totalCount,
  pageInfo: { hasNextPage: endCursor !== null, endCursor },
  edges: ids.map((id) => ({ node: { id } as Row })),
})
const page = (ids: string[], endCursor: string | null = null, totalCount?: number): Answer => ({ data: { rows: connection(ids, endCursor, totalCount) } })
const failure = (code: string): Answer => ({ error: new CombinedError({ graphQLErrors: [{ message: code, extensions: { code } }] }) })

/** A server whose answers the test hands out one by one, in any order. */
function server() {
  const asked: { vars: PageVariables; answer: (a: Answer) => void }[] = []
  const fetch = (vars: PageVariables) => new Promise<Answer>((answer) => asked.push({ vars, answer }))
  /** Answers the latest request and waits for the load that made it. */
  const reply = async (load: Promise<void>, a: Answer) => {
    asked.at(-1)!.answer(a)
    await load
  }
  return { asked, fetch, reply }
}

function list(s: ReturnType<typeof server>, keepShownUpTo?: number) {
  return usePagedConnection({ pageSize: 2, keepShownUpTo, fetch: s.fetch, connection: (d: { rows: ReturnType<typeof connection> }) => d.rows })
}

const ids = (rows: readonly Row[]) => rows.map((r) => r.id)

describe('usePagedConnection', () => {
  it('shows only the answer to the latest load, whatever order answers arrive in', async () => {
    const s = server()
    const l = list(s)
    // e.g. a search typed a letter at a time: three loads, answered out of order
    const [first, second, latest] = [l.load(), l.load(), l.load()]
    s.asked[1]!.answer(page(['stale-2'], null, 1))
    await second
    expect(ids(l.items.value)).toEqual([])
    expect(l.loading.value).toBe(true)

    s.asked[2]!.answer(page(['new'], null, 1))
    await latest
    expect(ids(l.items.value)).toEqual(['new'])
    expect(l.loading.value).toBe(false)

    s.asked[0]!.answer(page(['stale-1a', 'stale-1b'], 'c2', 9))
    await first
    expect(ids(l.items.value)).toEqual(['new'])
    expect(l.totalCount.value).toBe(1)
    expect(l.hasNextPage.value).toBe(false)
  })

  it('appends the next page after the last cursor, without repeating a row already shown', async () => {
    const s = server()
    const l = list(s)
    await s.reply(l.load(), page(['a', 'b'], 'c2', 4))
    expect(l.hasNextPage.value).toBe(true)

    await s.reply(l.load(true), page(['b', 'c'], 'c4', 4))
    expect(s.asked[1]!.vars).toEqual({ first: 2, after: 'c2' })
    expect(ids(l.items.value)).toEqual(['a', 'b', 'c'])
    expect(l.totalCount.value).toBe(4)
  })

  it('asks for no more while a load is under way or when nothing follows', async () => {
    const s = server()
    const l = list(s)
    const first = l.load()
    await l.load(true)
    expect(s.asked).toHaveLength(1)
    await s.reply(first, page(['a'], null))
    await l.load(true)
    expect(s.asked).toHaveLength(1)
  })

  it('keeps the list shown and the error when a load fails, and clears the error on the next success', async () => {
    const s = server()
    const l = list(s)
    await s.reply(l.load(), page(['a', 'b'], 'c2', 3))
    await s.reply(l.load(true), failure('RATE_LIMITED'))
    expect(ids(l.items.value)).toEqual(['a', 'b'])
    expect(l.error.value?.code).toBe('RATE_LIMITED')
    expect(l.loading.value).toBe(false)
    expect(l.hasNextPage.value).toBe(true)

    await s.reply(l.load(true), page(['c'], null, 3))
    expect(s.asked[2]!.vars.after).toBe('c2')
    expect(ids(l.items.value)).toEqual(['a', 'b', 'c'])
    expect(l.error.value).toBeNull()
  })

  it('reloads as many rows as are shown when asked to keep the length', async () => {
    const s = server()
    const l = list(s, 3)
    await s.reply(l.load(), page(['a', 'b'], 'c2', 5))
    await s.reply(l.load(true), page(['c', 'd'], 'c4', 5))
    await s.reply(l.load(), page(['a', 'b', 'c'], 'c3', 5))
    expect(s.asked.map((a) => a.vars.first)).toEqual([2, 2, 3])
    expect(ids(l.items.value)).toEqual(['a', 'b', 'c'])
  })

  it('lets a change made meanwhile stand against a load asked for before it', async () => {
    const s = server()
    const l = list(s)
    const pending = l.load()
    l.dropPending()
    l.items.value = [{ id: 'made-here' }]
    expect(l.loading.value).toBe(false)
    await s.reply(pending, page(['a'], null))
    expect(ids(l.items.value)).toEqual(['made-here'])
  })
})
