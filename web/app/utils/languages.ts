// Names of languages and voices in the interface's language, from the
// browser's own CLDR data (Intl.DisplayNames), not a table of ours.

/** A voice as far as naming it goes. */
export interface NamedVoice {
  name: string
  language: string
  languageName: string
}

/**
 * The name of a BCP 47 tag in locale ("ja" → "日本語" in Japanese,
 * "Japanese" in English), or fallback when the browser does not know it.
 */
export function languageName(tag: string, locale: string, fallback: string): string {
  try {
    const name = new Intl.DisplayNames([locale], { type: 'language' }).of(tag)
    // An unknown language comes back as its own code ("qaa-x-nope" → "qaa").
    if (name && !tag.toLowerCase().startsWith(name.toLowerCase())) return name
  } catch {
    // Not a tag Intl takes (espeak-ng has a few private ones).
  }
  return fallback
}

/**
 * Whether a voice's name only says what language it speaks, as espeak-ng's
 * do ("Japanese", "English (America)"): then its language's name in the
 * interface's language says the same, and better.
 */
function namesItsLanguage(v: NamedVoice): boolean {
  return v.name === v.languageName || v.name.startsWith(`${v.languageName} (`)
}

/**
 * What a voice is called in locale: by its language's name when its name
 * only names its language ("English (America)" → "アメリカ英語"), else by
 * its own name followed by its language ("slt · 英語").
 */
export function voiceLabel(v: NamedVoice, locale: string): string {
  const language = languageName(v.language, locale, v.languageName)
  return namesItsLanguage(v) ? language : `${v.name} · ${language}`
}
