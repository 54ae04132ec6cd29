/**
 * Billable characters of a text, as the server counts them: the runes
 * (code points) of the text without leading and trailing whitespace, NULs dropped.
 */
export function countCharacters(text: string): number {
  let n = 0
  for (const ch of text.replace(/\0/g, '').trim()) if (ch) n++
  return n
}

/** The part of `me` the cost line needs. */
export interface QuotaInput {
  /** Longest text of one generation on the plan. */
  maxCharactersPerGeneration: number
  /** Characters left this period; null: unlimited (overage allowed). */
  remainingCharacters: number | null | undefined
}

/** What a text will cost against the quota, for the live line under the editor. */
export interface Cost {
  characters: number
  max: number
  remaining: number | null
  overMax: boolean
  overQuota: boolean
}

/** Works out the cost of `characters` for a plan and usage (unknown usage: no limits shown). */
export function costOf(characters: number, q: QuotaInput | null): Cost {
  const max = q?.maxCharactersPerGeneration ?? Number.POSITIVE_INFINITY
  const remaining = q?.remainingCharacters ?? null
  return {
    characters,
    max,
    remaining,
    overMax: characters > max,
    overQuota: remaining !== null && characters > remaining,
  }
}
