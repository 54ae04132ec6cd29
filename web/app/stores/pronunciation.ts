import { defineStore } from 'pinia'
import { ref } from 'vue'
import { tryUseNuxtApp } from '#app'
import { DeleteLexiconEntryMutation, LexiconQuery, UpsertLexiconEntryMutation } from '~/graphql/pronunciation'
import type { LexiconEntryFieldsFragment } from '~/gql/graphql'
import { accountClientRef } from '~/utils/account/client'
import { toUiErrors, type UiError } from '~/utils/errors'
import { usePagedConnection } from '~/composables/usePagedConnection'
import { useAuthStore } from '~/stores/auth'

/** An entry of the lexicon as the page shows it. */
export type LexiconEntry = LexiconEntryFieldsFragment

/** What the form sends: language empty for every language. */
export interface LexiconEntryDraft {
  grapheme: string
  alias: string
  language: string
}

/** What an import did (PUT /v1/lexicon's answer). */
export interface ImportResult {
  /** Entries added or changed. */
  entries: number
  /** 1-based indexes of lexemes with phonemes but no alias, not taken. */
  skippedLexemes: number[]
  /** Entries the lexicon holds now. */
  total: number
}

/** A PLS document to save. */
export interface ExportedFile {
  blob: Blob
  filename: string
}

/** How the store reaches /v1/lexicon: fetch, with the session's credential and language. */
export interface LexiconHttp {
  fetch: typeof fetch
  token: () => Promise<string | null>
  locale: () => string
}

const PAGE_SIZE = 50
/** Where the lexicon is imported and exported as PLS XML. */
export const LEXICON_PATH = '/v1/lexicon'

/** The errors of a REST answer (the GraphQL error shape), or of a failed request. */
async function restErrors(res: Response): Promise<UiError[]> {
  try {
    const body = (await res.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }
    const errs = (body.errors ?? []).map((e) => {
      const ext = e.extensions ?? {}
      const out: UiError = { code: typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR', message: e.message }
      if (typeof ext.field === 'string') out.field = ext.field
      if (typeof ext.retryAfterSeconds === 'number') out.retryAfterSeconds = ext.retryAfterSeconds
      return out
    })
    if (errs.length) return errs
  } catch {
    // not JSON: fall through
  }
  return [{ code: res.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_SERVER_ERROR', message: `HTTP ${res.status}` }]
}

function networkError(e: unknown): UiError[] {
  return [{ code: 'NETWORK_ERROR', message: e instanceof Error ? e.message : String(e) }]
}

/** The file name the server gave in Content-Disposition, or a default. */
function filenameOf(res: Response, language: string): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')
  return m?.[1] ?? (language ? `koe-lexicon-${language}.pls` : 'koe-lexicon.pls')
}

/**
 * The caller's pronunciation lexicon: the paged list, adding or changing an
 * entry (by grapheme and language), deleting, and PLS import and export
 * through /v1/lexicon.
 */
export const usePronunciationStore = defineStore('pronunciation', () => {
  const client = accountClientRef()
  const nuxtApp = tryUseNuxtApp()
  let httpOverride: LexiconHttp | null = null

  const list = usePagedConnection({
    pageSize: PAGE_SIZE,
    fetch: (page) => client.get().query(LexiconQuery, page, { requestPolicy: 'network-only' }).toPromise(),
    connection: (data) => data.lexicon,
  })
  const { items, totalCount, hasNextPage, loading, loaded, errors } = list
  const busy = ref(false)

  function http(): LexiconHttp {
    if (httpOverride) return httpOverride
    const auth = useAuthStore()
    return {
      fetch: globalThis.fetch.bind(globalThis),
      token: () => auth.token(),
      locale: () => String((nuxtApp?.$i18n as { locale: { value: string } } | undefined)?.locale.value ?? ''),
    }
  }

  /** Calls /v1/lexicon with the credential and language of the session. */
  async function call(method: 'GET' | 'PUT', query: string, body?: Blob): Promise<Response> {
    const h = http()
    const headers = new Headers()
    const token = await h.token()
    if (token) headers.set('Authorization', `Bearer ${token}`)
    const lang = h.locale()
    if (lang) headers.set('Accept-Language', lang)
    if (body) headers.set('Content-Type', 'application/pls+xml')
    return h.fetch(`${LEXICON_PATH}${query}`, { method, headers, body })
  }

  /** Loads the first page, newest first. */
  async function load() {
    await list.load()
  }

  /** Appends the next page. */
  async function loadMore() {
    await list.load(true)
  }

  /**
   * Adds an entry, or changes the alias of the one of the same grapheme and
   * language; answers the errors (field: input.grapheme, input.alias,
   * input.language, or input when the lexicon is full), empty when saved.
   */
  async function save(draft: LexiconEntryDraft): Promise<UiError[]> {
    const input = { grapheme: draft.grapheme.trim(), alias: draft.alias.trim(), language: draft.language.trim() || null }
    const res = await client.get().mutation(UpsertLexiconEntryMutation, { input }).toPromise()
    const saved = res.data?.upsertLexiconEntry
    if (!saved) return toUiErrors(res.error)
    list.dropPending()
    if (items.value.some((e) => e.id === saved.id)) {
      items.value = items.value.map((e) => (e.id === saved.id ? saved : e))
    } else {
      items.value = [saved, ...items.value]
      totalCount.value += 1
    }
    return []
  }

  /** Deletes an entry; answers the errors, empty when deleted. */
  async function remove(id: string): Promise<UiError[]> {
    const res = await client.get().mutation(DeleteLexiconEntryMutation, { id }).toPromise()
    if (!res.data?.deleteLexiconEntry) return toUiErrors(res.error)
    list.dropPending()
    const before = items.value.length
    items.value = items.value.filter((e) => e.id !== id)
    totalCount.value = Math.max(0, totalCount.value - (before - items.value.length))
    return []
  }

  /**
   * Imports a PLS file: merged into the lexicon by grapheme and language,
   * or, with replace, made the whole lexicon. Nothing changes when the
   * server refuses it; its errors name the place (an XPath such as
   * /lexicon/lexeme[3]/alias[1]). The list is loaded again after an import.
   */
  async function importFile(file: Blob, replace = false): Promise<{ result: ImportResult | null; errors: UiError[] }> {
    busy.value = true
    try {
      let res: Response
      try {
        res = await call('PUT', replace ? '?replace=true' : '', file)
      } catch (e) {
        return { result: null, errors: networkError(e) }
      }
      if (!res.ok) return { result: null, errors: await restErrors(res) }
      const result = (await res.json()) as ImportResult
      await list.load()
      return { result, errors: [] }
    } finally {
      busy.value = false
    }
  }

  /** Exports the lexicon as a PLS file: every entry, or those of one language. */
  async function exportFile(language = ''): Promise<{ file: ExportedFile | null; errors: UiError[] }> {
    busy.value = true
    try {
      const lang = language.trim()
      let res: Response
      try {
        res = await call('GET', lang ? `?language=${encodeURIComponent(lang)}` : '')
      } catch (e) {
        return { file: null, errors: networkError(e) }
      }
      if (!res.ok) return { file: null, errors: await restErrors(res) }
      return { file: { blob: await res.blob(), filename: filenameOf(res, lang) }, errors: [] }
    } finally {
      busy.value = false
    }
  }

  /** Forgets everything (sign-out, another user). */
  function reset() {
    list.reset()
    busy.value = false
  }

  return {
    items, totalCount, hasNextPage, loading, loaded, errors, busy,
    load, loadMore, save, remove, importFile, exportFile, reset,
    /** Replaces the GraphQL client (tests). */
    useClient: client.set,
    /** Replaces how /v1/lexicon is reached (tests). */
    useHttp(h: LexiconHttp | null) {
      httpOverride = h
    },
  }
})
