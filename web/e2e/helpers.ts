// Helpers for specs that need server-side setup.
import type { Page } from '@playwright/test'
import type { Gql } from './fixtures'

/** Waits until a generation reaches a terminal status; answers that status. */
export async function waitForGeneration(gql: Gql, id: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await gql<{ generation: { status: string } | null }>('query($id: ID!) { generation(id: $id) { status } }', { id })
    const s = r.data?.generation?.status
    if (s === 'SUCCEEDED' || s === 'FAILED' || s === 'CANCELED') return s
    if (Date.now() > deadline) throw new Error(`generation ${id} still ${s} after ${timeoutMs} ms`)
    await new Promise((res) => setTimeout(res, 250))
  }
}

/** Creates a generation through the API (English voice, WAV) and answers its id. */
export async function createGeneration(gql: Gql, text: string, format = 'WAV'): Promise<string> {
  const r = await gql<{ createGeneration: { id: string } }>(
    'mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }',
    { input: { voiceId: await englishVoice(gql), text, format } },
  )
  if (!r.data) throw new Error(`createGeneration: ${JSON.stringify(r.errors)}`)
  return r.data.createGeneration.id
}

let voiceCache: string | undefined
/** The id of an English voice. */
export async function englishVoice(gql: Gql): Promise<string> {
  if (voiceCache) return voiceCache
  const r = await gql<{ voices: { edges: { node: { id: string } }[] } }>('{ voices(filter: {language: "en"}, first: 1) { edges { node { id } } } }')
  const id = r.data?.voices.edges[0]?.node.id
  if (!id) throw new Error(`no English voice: ${JSON.stringify(r.errors)}`)
  voiceCache = id
  return id
}

/** About n characters of plain English prose. */
export function prose(n: number): string {
  const s = 'Koe turns written words into natural speech, one sentence at a time, while you watch it happen. '
  return s.repeat(Math.ceil(n / s.length)).slice(0, n).trim()
}

/** Reads an <audio> element's duration once its metadata is loaded. */
export async function audioDuration(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((el) => {
    const a = el as HTMLAudioElement
    return new Promise<number>((resolve, reject) => {
      if (a.readyState >= 1 && Number.isFinite(a.duration)) return resolve(a.duration)
      a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true })
      a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}`)), { once: true })
      a.load()
    })
  })
}

/** Plays an <audio> element (muted, so autoplay rules allow it) and answers how far it got. */
export async function playAudio(page: Page, testId: string, withinMs = 10_000): Promise<number> {
  return page.getByTestId(testId).evaluate(async (el, ms) => {
    const a = el as HTMLAudioElement
    a.muted = true
    await a.play()
    // Wait for the playhead to move (a loaded machine may take a while to
    // start decoding), or give up after ms and report where it stands.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      a.addEventListener('timeupdate', function moved() {
        if (a.currentTime > 0) {
          clearTimeout(timer)
          a.removeEventListener('timeupdate', moved)
          resolve()
        }
      })
    })
    a.pause()
    return a.currentTime
  }, withinMs)
}
