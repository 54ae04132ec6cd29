import { describe, expect, it } from 'vitest'
import { mountSuspended } from '@nuxt/test-utils/runtime'
import FieldError from '~/components/FieldError.vue'
import ProgressBar from '~/components/ProgressBar.vue'
import VoiceQualityBadge from '~/components/VoiceQualityBadge.vue'

describe('FieldError', () => {
  it('says a quota error in words, in the current language', async () => {
    const errors = [{ code: 'QUOTA_EXCEEDED', message: 'this needs 300 characters and 0 are left' }]
    const w = await mountSuspended(FieldError, { props: { id: 'text-error', errors } })
    expect(w.get('#text-error').text()).toContain('You have used all your characters for this period')
    expect(w.get('[data-error-code=QUOTA_EXCEEDED]').attributes('role')).toBe('alert')
    const nuxtApp = useNuxtApp()
    await nuxtApp.$i18n.setLocale('ja')
    const ja = await mountSuspended(FieldError, { props: { id: 'text-error', errors } })
    expect(ja.text()).toContain('今期の文字数を使い切りました')
    await nuxtApp.$i18n.setLocale('en')
  })

  it('keeps the server’s specific message for bad input, and the wait for rate limits', async () => {
    const w = await mountSuspended(FieldError, {
      props: { id: 'e', errors: [{ code: 'BAD_USER_INPUT', field: 'input.speed', message: 'must be between 0.5 and 2.0, got 3' }, { code: 'RATE_LIMITED', message: 'x', retryAfterSeconds: 7 }] },
    })
    expect(w.text()).toContain('must be between 0.5 and 2.0, got 3')
    expect(w.text()).toContain('Try again in 7 seconds')
  })

  it('renders nothing without errors', async () => {
    const w = await mountSuspended(FieldError, { props: { id: 'e', errors: [] } })
    expect(w.findAll('p')).toHaveLength(0)
  })
})

describe('ProgressBar', () => {
  it('exposes its value to assistive technology and clamps it', async () => {
    const w = await mountSuspended(ProgressBar, { props: { value: 0.666, label: 'Progress', detail: '2 of 3 chunks' } })
    const bar = w.get('[role=progressbar]')
    expect(bar.attributes('aria-valuenow')).toBe('67')
    expect(bar.attributes('aria-valuetext')).toBe('67% — 2 of 3 chunks')
    const over = await mountSuspended(ProgressBar, { props: { value: 1.4, label: 'P' } })
    expect(over.get('[role=progressbar]').attributes('aria-valuenow')).toBe('100')
  })
})

describe('VoiceQualityBadge', () => {
  it('names each quality tier in the interface language', async () => {
    const label = async (quality: 'BASIC' | 'STANDARD' | 'NATURAL' | 'NEURAL') =>
      (await mountSuspended(VoiceQualityBadge, { props: { quality } })).get('[data-testid=voice-quality]')
    expect((await label('NATURAL')).text()).toBe('Natural')
    expect((await label('BASIC')).text()).toBe('Basic')
    expect((await label('NEURAL')).attributes('title')).toBe('Voice quality: Neural')
    const nuxtApp = useNuxtApp()
    await nuxtApp.$i18n.setLocale('ja')
    try {
      expect((await label('NATURAL')).text()).toBe('自然')
      expect((await label('BASIC')).text()).toBe('基本')
      expect((await label('STANDARD')).text()).toBe('標準')
    } finally {
      await nuxtApp.$i18n.setLocale('en')
    }
  })
})
