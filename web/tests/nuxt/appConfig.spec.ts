import { describe, expect, it } from 'vitest'
import { parseAppConfig, fallbackAppConfig } from '~/utils/appConfig'

describe('parseAppConfig', () => {
  it('reads a server with Firebase and the emulator', () => {
    const c = parseAppConfig({ firebase: { apiKey: 'k', authDomain: 'd', projectId: 'demo-koe', emulatorHost: '127.0.0.1:9099' }, billing: true, playground: '/playground' })
    expect(c).toEqual({ firebase: { apiKey: 'k', authDomain: 'd', projectId: 'demo-koe', emulatorHost: '127.0.0.1:9099' }, billing: true, playground: '/playground' })
  })
  it('treats a server without Firebase as API keys only', () => {
    expect(parseAppConfig({ firebase: null, billing: false, playground: null }).firebase).toBeNull()
  })
  it('falls back on nonsense', () => {
    expect(parseAppConfig('nope')).toEqual(fallbackAppConfig)
    expect(parseAppConfig({ firebase: { apiKey: 3 } }).firebase).toBeNull()
  })
})
