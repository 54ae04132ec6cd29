import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

// Every admin string the pages use exists in English and Japanese, and the
// two files have the same keys.
// Read as text: the i18n module compiles imported locale files into message functions.
const locale = (lang: string) => JSON.parse(readFileSync(join(__dirname, `../../i18n/locales/${lang}/admin.json`), 'utf8'))
const en = locale('en')
const ja = locale('ja')
const root = join(__dirname, '../../app')
const sources = ['pages/admin', 'components/admin'].flatMap((dir) =>
  readdirSync(join(root, dir)).filter((f) => f.endsWith('.vue')).map((f) => readFileSync(join(root, dir, f), 'utf8')),
)

function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('admin locale files', () => {
  it('have the same keys in en and ja', () => {
    expect(keys(ja).sort()).toEqual(keys(en).sort())
  })
  it('hold every literal key the admin pages use', () => {
    const used = new Set(sources.flatMap((s) => [...s.matchAll(/\bt\('(admin\.[A-Za-z.]+)'/g)].map((m) => m[1]!)))
    expect(used.size).toBeGreaterThan(50)
    const known = new Set(keys(en))
    expect([...used].filter((k) => !known.has(k))).toEqual([])
  })
  it('have no empty Japanese strings', () => {
    const flat = (o: any, p = ''): [string, string][] => (typeof o === 'string' ? [[p, o]] : Object.entries(o).flatMap(([k, v]) => flat(v, p ? `${p}.${k}` : k)))
    expect(flat(ja).filter(([, v]) => !v.trim())).toEqual([])
  })
})
