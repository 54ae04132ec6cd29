import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import { usePronunciationStore, type LexiconEntry, type LexiconHttp } from '~/stores/pronunciation'
import PronunciationPage from '~/pages/pronunciation.vue'
import { fakeServer, gqlError, settle } from './account-fakes'

function entry(id: string, grapheme: string, alias: string, language: string | null = null): LexiconEntry {
  return { id, grapheme, alias, language, createdAt: '2026-12-06T00:00:00Z' }
}

/** A fake server holding one person's lexicon, upserted by (grapheme, language). */
function server(start: LexiconEntry[] = [entry('lex_1', 'Koe', 'koh-eh')]) {
  let entries = [...start]
  let next = entries.length + 1
  const s = fakeServer({
    Lexicon: (v) => {
      const first = Number(v.first ?? 50)
      const from = v.after ? entries.findIndex((e) => e.id === v.after) + 1 : 0
      const page = entries.slice(from, from + first)
      return {
        data: {
          lexicon: {
            totalCount: entries.length,
            pageInfo: { hasNextPage: from + first < entries.length, endCursor: page.at(-1)?.id ?? null },
            edges: page.map((node) => ({ node })),
          },
        },
      }
    },
    UpsertLexiconEntry: (v) => {
      const input = v.input as { grapheme: string; alias: string; language: string | null }
      if (!input.alias) return gqlError('BAD_USER_INPUT', 'must not be empty', 'input.alias')
      if (input.language === 'en US') return gqlError('BAD_USER_INPUT', 'must be a BCP 47 language tag such as en or ja-JP', 'input.language')
      const same = entries.find((e) => e.grapheme === input.grapheme && e.language === input.language)
      if (same) {
        same.alias = input.alias
        return { data: { upsertLexiconEntry: { ...same } } }
      }
      const e = entry(`lex_${next++}`, input.grapheme, input.alias, input.language)
      entries = [e, ...entries]
      return { data: { upsertLexiconEntry: e } }
    },
    DeleteLexiconEntry: (v) => {
      if (!entries.some((e) => e.id === v.id)) return gqlError('NOT_FOUND')
      entries = entries.filter((e) => e.id !== v.id)
      return { data: { deleteLexiconEntry: true } }
    },
  })
  return { ...s, entries: () => entries, set: (e: LexiconEntry[]) => { entries = e } }
}

/** A fake /v1/lexicon: records requests, answers what the test says. */
function rest(answer: (req: { method: string; url: string; headers: Headers; body: string }) => Response) {
  const seen: { method: string; url: string; headers: Headers; body: string }[] = []
  const http: LexiconHttp = {
    fetch: (async (url: string, init?: RequestInit) => {
      const req = { method: init?.method ?? 'GET', url: String(url), headers: new Headers(init?.headers), body: init?.body ? await (init.body as Blob).text() : '' }
      seen.push(req)
      return answer(req)
    }) as typeof fetch,
    token: async () => 'koe_key',
    locale: () => 'ja',
  }
  return { http, seen }
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

describe('pronunciation store', () => {
  let store: ReturnType<typeof usePronunciationStore>
  beforeEach(() => {
    store = usePronunciationStore()
    store.reset()
    store.useHttp(null)
  })

  it('lists, adds, changes by grapheme and language, and deletes', async () => {
    const s = server()
    store.useClient(s.client)
    await store.load()
    expect(store.items.map((e) => e.grapheme)).toEqual(['Koe'])
    expect(store.totalCount).toBe(1)

    expect(await store.save({ grapheme: ' 東京 ', alias: ' トーキョー ', language: 'ja' })).toEqual([])
    expect(s.callsOf('UpsertLexiconEntry')[0]!.variables).toEqual({ input: { grapheme: '東京', alias: 'トーキョー', language: 'ja' } })
    expect(store.items.map((e) => e.grapheme)).toEqual(['東京', 'Koe'])
    expect(store.totalCount).toBe(2)

    // The same grapheme with no language changes the entry in place.
    expect(await store.save({ grapheme: 'Koe', alias: 'ko-e', language: '  ' })).toEqual([])
    expect(s.callsOf('UpsertLexiconEntry')[1]!.variables).toEqual({ input: { grapheme: 'Koe', alias: 'ko-e', language: null } })
    expect(store.items.map((e) => `${e.grapheme}=${e.alias}`)).toEqual(['東京=トーキョー', 'Koe=ko-e'])
    expect(store.totalCount).toBe(2)

    expect(await store.remove('lex_1')).toEqual([])
    expect(store.items.map((e) => e.grapheme)).toEqual(['東京'])
    expect(store.totalCount).toBe(1)
    expect((await store.remove('lex_1'))[0]).toMatchObject({ code: 'NOT_FOUND' })
    expect(store.items).toHaveLength(1)
  })

  it('answers the field of refused input and keeps nothing', async () => {
    const s = server()
    store.useClient(s.client)
    await store.load()
    const errs = await store.save({ grapheme: 'AWS', alias: 'Amazon', language: 'en US' })
    expect(errs[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.language' })
    expect(store.items.map((e) => e.grapheme)).toEqual(['Koe'])
    expect(store.totalCount).toBe(1)
  })

  it('pages through a long lexicon', async () => {
    const s = server(Array.from({ length: 60 }, (_, i) => entry(`lex_${i + 1}`, `w${i}`, 'x')))
    store.useClient(s.client)
    await store.load()
    expect(store.items).toHaveLength(50)
    expect(store.hasNextPage).toBe(true)
    await store.loadMore()
    expect(store.items).toHaveLength(60)
    expect(store.hasNextPage).toBe(false)
  })

  it('imports a PLS file with the session credential and language, then reloads the list', async () => {
    const s = server()
    store.useClient(s.client)
    await store.load()
    const r = rest(() => json(200, { entries: 2, skippedLexemes: [3], total: 3 }))
    store.useHttp(r.http)
    s.set([entry('lex_9', 'W3C', 'World Wide Web Consortium', 'en'), ...s.entries()])
    const doc = '<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en"/>'
    const { result, errors } = await store.importFile(new Blob([doc]), true)
    expect(errors).toEqual([])
    expect(result).toEqual({ entries: 2, skippedLexemes: [3], total: 3 })
    expect(r.seen).toHaveLength(1)
    const req = r.seen[0]!
    expect(req.method).toBe('PUT')
    expect(req.url).toBe('/v1/lexicon?replace=true')
    expect(req.headers.get('Authorization')).toBe('Bearer koe_key')
    expect(req.headers.get('Accept-Language')).toBe('ja')
    expect(req.headers.get('Content-Type')).toBe('application/pls+xml')
    expect(req.body).toBe(doc)
    expect(store.items.map((e) => e.grapheme)).toEqual(['W3C', 'Koe'])
    expect(store.busy).toBe(false)
  })

  it('answers a refused import with the place it names, and changes nothing', async () => {
    const s = server()
    store.useClient(s.client)
    await store.load()
    const r = rest(() => json(400, { errors: [{ message: 'must not be empty', extensions: { code: 'BAD_USER_INPUT', field: '/lexicon/lexeme[2]/alias[1]' } }] }))
    store.useHttp(r.http)
    const { result, errors } = await store.importFile(new Blob(['<lexicon/>']))
    expect(result).toBeNull()
    expect(errors).toEqual([{ code: 'BAD_USER_INPUT', field: '/lexicon/lexeme[2]/alias[1]', message: 'must not be empty' }])
    expect(r.seen[0]!.url).toBe('/v1/lexicon')
    expect(s.callsOf('Lexicon')).toHaveLength(1)

    store.useHttp(rest(() => json(429, { errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 7 } }] })).http)
    expect((await store.importFile(new Blob(['x']))).errors[0]).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 7 })
    store.useHttp({ ...r.http, fetch: (async () => { throw new TypeError('offline') }) as typeof fetch })
    expect((await store.importFile(new Blob(['x']))).errors[0]).toMatchObject({ code: 'NETWORK_ERROR' })
    expect(store.busy).toBe(false)
  })

  it('exports every entry, or one language, with the server-given file name', async () => {
    const r = rest((req) => new Response('<lexicon/>', {
      status: 200,
      headers: { 'Content-Type': 'application/pls+xml', 'Content-Disposition': `attachment; filename="${req.url.includes('language') ? 'koe-lexicon-ja.pls' : 'koe-lexicon.pls'}"` },
    }))
    store.useHttp(r.http)
    const all = await store.exportFile()
    expect(all.errors).toEqual([])
    expect(all.file?.filename).toBe('koe-lexicon.pls')
    expect(await all.file?.blob.text()).toBe('<lexicon/>')
    expect(r.seen[0]).toMatchObject({ method: 'GET', url: '/v1/lexicon' })
    const ja = await store.exportFile(' ja ')
    expect(ja.file?.filename).toBe('koe-lexicon-ja.pls')
    expect(r.seen[1]!.url).toBe('/v1/lexicon?language=ja')

    store.useHttp(rest(() => json(400, { errors: [{ message: 'bad tag', extensions: { code: 'BAD_USER_INPUT', field: 'language' } }] })).http)
    const bad = await store.exportFile('en US')
    expect(bad.file).toBeNull()
    expect(bad.errors[0]).toMatchObject({ field: 'language' })
  })
})

describe('pronunciation page', () => {
  afterEach(() => {
    const store = usePronunciationStore()
    store.reset()
    store.useHttp(null)
  })

  it('adds an entry, shows a refused field next to it, edits and deletes', async () => {
    const s = server()
    const store = usePronunciationStore()
    store.useClient(s.client)
    const w = await mountSuspended(PronunciationPage)
    await settle()
    expect(w.findAll('[data-testid^="entry-lex_"]')).toHaveLength(1)

    // Empty fields are refused before asking the server.
    await w.get('[data-testid="entry-form"]').trigger('submit')
    await settle()
    expect(s.callsOf('UpsertLexiconEntry')).toHaveLength(0)
    expect(w.get('#entry-grapheme').attributes('aria-invalid')).toBe('true')

    await w.get('[data-testid="entry-grapheme"]').setValue('AWS')
    await w.get('[data-testid="entry-alias"]').setValue('Amazon Web Services')
    await w.get('[data-testid="entry-language"]').setValue('en US')
    await w.get('[data-testid="entry-form"]').trigger('submit')
    await settle()
    expect(w.get('#entry-language').attributes('aria-invalid')).toBe('true')
    expect(w.get('#entry-language-error').text()).toContain('BCP 47')

    await w.get('[data-testid="entry-language"]').setValue('en')
    await w.get('[data-testid="entry-form"]').trigger('submit')
    await settle()
    expect(w.findAll('[data-testid^="entry-lex_"]')).toHaveLength(2)
    expect(w.text()).toContain('Amazon Web Services')

    // Editing changes the alias of the entry chosen.
    await w.get('[data-testid="entry-lex_1"] [data-testid="entry-edit"]').trigger('click')
    expect((w.get('[data-testid="entry-grapheme"]').element as HTMLInputElement).readOnly).toBe(true)
    await w.get('[data-testid="entry-alias"]').setValue('ko-e')
    await w.get('[data-testid="entry-form"]').trigger('submit')
    await settle()
    expect(s.entries().find((e) => e.id === 'lex_1')?.alias).toBe('ko-e')
    expect(w.get('[data-testid="entry-lex_1"]').text()).toContain('ko-e')

    // Deleting asks first.
    const dialog = HTMLDialogElement.prototype as unknown as { showModal(): void; close(): void }
    dialog.showModal ??= function () {}
    dialog.close ??= function () {}
    await w.get('[data-testid="entry-lex_1"] [data-testid="entry-delete"]').trigger('click')
    await settle()
    expect(s.callsOf('DeleteLexiconEntry')).toHaveLength(0)
    await w.get('[data-testid="confirm"]').trigger('click')
    await settle()
    expect(s.callsOf('DeleteLexiconEntry')[0]!.variables).toEqual({ id: 'lex_1' })
    expect(w.find('[data-testid="entry-lex_1"]').exists()).toBe(false)
    expect(w.get('[data-testid="entries-count"]').text()).toBe('1 entry of 1,000')
    w.unmount()
  })

  it('shows where an imported file is wrong', async () => {
    const s = server()
    const store = usePronunciationStore()
    store.useClient(s.client)
    store.useHttp(rest(() => json(400, { errors: [{ message: 'must not be empty', extensions: { code: 'BAD_USER_INPUT', field: '/lexicon/lexeme[2]/alias[1]' } }] })).http)
    const w = await mountSuspended(PronunciationPage)
    await settle()
    await w.get('[data-testid="import-form"]').trigger('submit')
    await settle()
    expect(w.get('[data-testid="import-error"]').text()).toBe('Choose a file first.')
    expect(store.busy).toBe(false)

    const input = w.get('[data-testid="import-file"]')
    Object.defineProperty(input.element, 'files', { value: [new File(['<lexicon/>'], 'x.pls')], configurable: true })
    await input.trigger('change')
    await w.get('[data-testid="import-form"]').trigger('submit')
    await settle()
    expect(w.get('[data-testid="import-error"]').text()).toContain('/lexicon/lexeme[2]/alias[1]')
    w.unmount()
  })

  it('exports to a download', async () => {
    const store = usePronunciationStore()
    store.useClient(server().client)
    store.useHttp(rest(() => new Response('<lexicon/>', { status: 200, headers: { 'Content-Disposition': 'attachment; filename="koe-lexicon.pls"' } })).http)
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    const w = await mountSuspended(PronunciationPage)
    await settle()
    await w.get('[data-testid="export-form"]').trigger('submit')
    await settle()
    expect(click).toHaveBeenCalledTimes(1)
    expect((click.mock.instances[0] as unknown as HTMLAnchorElement).download).toBe('koe-lexicon.pls')
    click.mockRestore()
    w.unmount()
  })
})

describe('pronunciation locale files', () => {
  const locale = (lang: string) => JSON.parse(readFileSync(join(__dirname, `../../i18n/locales/${lang}/pronunciation.json`), 'utf8'))
  const keys = (o: unknown, prefix = ''): string[] =>
    typeof o !== 'object' || o === null ? [prefix] : Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))

  it('have the same keys in en and ja, and every key the page uses', () => {
    const en = keys(locale('en'))
    expect(keys(locale('ja')).sort()).toEqual([...en].sort())
    const page = readFileSync(join(__dirname, '../../app/pages/pronunciation.vue'), 'utf8')
    const used = new Set([...page.matchAll(/\bt\('(pronunciation\.[A-Za-z.]+)'/g)].map((m) => m[1]!))
    expect(used.size).toBeGreaterThan(30)
    expect([...used].filter((k) => !en.includes(k))).toEqual([])
  })
})
