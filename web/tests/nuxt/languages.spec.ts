import { describe, expect, it } from 'vitest'
import { languageName, voiceLabel } from '~/utils/languages'

describe('languageName', () => {
  it('names a language in the interface language', () => {
    expect(languageName('ja', 'ja', 'Japanese')).toBe('日本語')
    expect(languageName('ja', 'en', 'Japanese')).toBe('Japanese')
    expect(languageName('en', 'ja', 'English')).toBe('英語')
  })
  it('falls back to the server’s name for tags the browser does not know', () => {
    expect(languageName('qaa-x-nope', 'ja', 'Lang Nope')).toBe('Lang Nope')
    expect(languageName('not a tag', 'en', 'Fallback')).toBe('Fallback')
  })
})

describe('voiceLabel', () => {
  const espeakJa = { name: 'Japanese', language: 'ja', languageName: 'Japanese' }
  it('calls a voice named after its language by that language, in the interface language', () => {
    // Today a Japanese person saw "Japanese · Japanese (ja)".
    expect(voiceLabel(espeakJa, 'ja')).toBe('日本語')
    expect(voiceLabel(espeakJa, 'en')).toBe('Japanese')
    const american = voiceLabel({ name: 'English (America)', language: 'en-US', languageName: 'English' }, 'ja')
    expect(american).toBe(new Intl.DisplayNames(['ja'], { type: 'language' }).of('en-US'))
    expect(american).not.toContain('English')
  })
  it('keeps a voice’s own name and adds its language', () => {
    expect(voiceLabel({ name: 'slt', language: 'en-US', languageName: 'English' }, 'ja'))
      .toBe(`slt · ${new Intl.DisplayNames(['ja'], { type: 'language' }).of('en-US')}`)
  })
})
