import { describe, expect, it } from 'vitest'
import { costOf, countCharacters } from '~/utils/quota'

describe('countCharacters', () => {
  it('counts code points of the trimmed text, as the server does', () => {
    expect(countCharacters('  hello  ')).toBe(5)
    expect(countCharacters('こんにちは')).toBe(5)
    expect(countCharacters('👋🏽 hi')).toBe(5) // two code points for the emoji
    expect(countCharacters('a\u0000b')).toBe(2)
    expect(countCharacters('\n\t ')).toBe(0)
  })
})

describe('costOf', () => {
  const plan = { maxCharactersPerGeneration: 5000, remainingCharacters: 300 }
  it('is within limits', () => {
    expect(costOf(200, plan)).toEqual({ characters: 200, max: 5000, remaining: 300, overMax: false, overQuota: false })
  })
  it('flags the quota and the per-generation limit', () => {
    expect(costOf(301, plan).overQuota).toBe(true)
    expect(costOf(5001, { ...plan, remainingCharacters: 100000 }).overMax).toBe(true)
  })
  it('never flags the quota on a plan with overage (remaining null)', () => {
    expect(costOf(10 ** 6, { maxCharactersPerGeneration: 10 ** 7, remainingCharacters: null }).overQuota).toBe(false)
  })
  it('shows no limits before `me` has loaded', () => {
    const c = costOf(10, null)
    expect(c.max).toBe(Number.POSITIVE_INFINITY)
    expect(c.remaining).toBeNull()
  })
})
