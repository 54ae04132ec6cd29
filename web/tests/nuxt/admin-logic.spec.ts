import { describe, expect, it } from 'vitest'
import { adminEmptyPlanForm, adminPlanFormToInput, adminPlanToForm, type AdminPlan } from '~/stores/adminPlans'
import { adminBroadcastFormToInput, adminEmptyBroadcastForm, isBroadcastActive } from '~/stores/adminBroadcasts'
import { adminLastDays, adminRangeToVariables } from '~/stores/adminKpis'
import { currencyDigits } from '~/utils/account/format'
import { adminFormatMoney, adminFieldOf, adminMoneyText, adminParseMoney, adminParseWhole } from '~/stores/adminShared'

const words = (rule: string) => `rule:${rule}`

const starter: AdminPlan = {
  id: 'pl_1', code: 'starter', name: 'Starter', monthlyPriceCents: 900, currency: 'usd', includedCharacters: 500000,
  overagePricePer1000Cents: 30, maxConcurrentGenerations: 4, maxCharactersPerGeneration: 20000, requestsPerMinute: 300,
  maxWebsockets: 10, maxSubscriptions: 50, features: ['A', 'B'], stripePriceId: 'price_starter', purchasable: true,
}

describe('money', () => {
  it('knows how many digits a currency has', () => {
    expect(currencyDigits('usd')).toBe(2)
    expect(currencyDigits('jpy')).toBe(0)
    expect(currencyDigits('nope-nope')).toBe(2)
  })
  it('parses amounts a person types into minor units', () => {
    expect(adminParseMoney('9', 'usd')).toBe(900)
    expect(adminParseMoney('9.5', 'usd')).toBe(950)
    expect(adminParseMoney(' 1,234.56 ', 'usd')).toBe(123456)
    expect(adminParseMoney('0.30', 'usd')).toBe(30)
    expect(adminParseMoney('980', 'jpy')).toBe(980)
    for (const bad of ['', '-1', '9.999', 'abc', '9.', '1e3']) expect(adminParseMoney(bad, 'usd'), bad).toBeNull()
    expect(adminParseMoney('9.5', 'jpy')).toBeNull()
  })
  it('shows minor units as money and as editable text', () => {
    expect(adminFormatMoney(900, 'usd', 'en-US')).toBe('$9.00')
    expect(adminFormatMoney(980, 'jpy', 'ja-JP')).toMatch(/980/)
    expect(adminMoneyText(2900, 'usd')).toBe('29.00')
    expect(adminMoneyText(980, 'jpy')).toBe('980')
  })
  it('parses whole numbers', () => {
    expect(adminParseWhole('2,000,000')).toBe(2000000)
    expect(adminParseWhole('1.5')).toBeNull()
    expect(adminParseWhole('-3')).toBeNull()
  })
  it('maps server fields to form fields', () => {
    expect(adminFieldOf({ code: 'BAD_USER_INPUT', field: 'input.name', message: '' })).toBe('name')
    expect(adminFieldOf({ code: 'BAD_USER_INPUT', field: 'to', message: '' })).toBe('to')
    expect(adminFieldOf({ code: 'CONFLICT', message: '' })).toBeUndefined()
  })
})

describe('plan form', () => {
  it('fills in every field of a plan, its Stripe price and API limits too', () => {
    expect(adminPlanToForm(starter)).toMatchObject({
      stripePriceId: 'price_starter', requestsPerMinute: '300', maxWebsockets: '10', maxSubscriptions: '50',
    })
    expect(adminPlanToForm({ ...starter, stripePriceId: null }).stripePriceId).toBe('')
  })
  it('round-trips a plan into PlanInput', () => {
    const { input, errors } = adminPlanFormToInput(adminPlanToForm(starter), words, true)
    expect(errors).toEqual([])
    expect(input).toEqual({
      code: 'starter', name: 'Starter', currency: 'usd', monthlyPriceCents: 900, includedCharacters: 500000,
      overagePricePer1000Cents: 30, maxConcurrentGenerations: 4, maxCharactersPerGeneration: 20000,
      requestsPerMinute: 300, maxWebsockets: 10, maxSubscriptions: 50,
      stripePriceId: 'price_starter', features: ['A', 'B'],
    })
  })
  it('sends an edited price and limits', () => {
    const f = { ...adminPlanToForm(starter), stripePriceId: ' price_new ', requestsPerMinute: '1,000,000', maxWebsockets: '1000', maxSubscriptions: '10000' }
    const { input } = adminPlanFormToInput(f, words, true)
    expect(input).toMatchObject({ stripePriceId: 'price_new', requestsPerMinute: 1000000, maxWebsockets: 1000, maxSubscriptions: 10000 })
  })
  it('removes an existing plan’s price when the field is cleared', () => {
    const { input } = adminPlanFormToInput({ ...adminPlanToForm(starter), stripePriceId: '  ' }, words, true)
    expect(input?.stripePriceId).toBe('')
  })
  it('sends a hard cap as null overage, a new plan without a Stripe id as null, and the default limits', () => {
    const f = { ...adminEmptyPlanForm(), code: 'team', name: 'Team', overage: false, overagePricePer1000: '5' }
    const { input } = adminPlanFormToInput(f, words)
    expect(input?.overagePricePer1000Cents).toBeNull()
    expect(input?.stripePriceId).toBeNull()
    expect(input?.features).toEqual([])
    expect(input).toMatchObject({ requestsPerMinute: 60, maxWebsockets: 5, maxSubscriptions: 20 })
  })
  it('names every bad field with words', () => {
    const f = {
      ...adminEmptyPlanForm(), code: 'Bad Code', name: ' ', currency: 'dollars', monthlyPrice: '-1', includedCharacters: 'x',
      overage: true, overagePricePer1000: '', maxConcurrentGenerations: '0', maxCharactersPerGeneration: '0', stripePriceId: 'price 1',
      requestsPerMinute: '0', maxWebsockets: 'many', maxSubscriptions: '',
    }
    const { input, errors } = adminPlanFormToInput(f, words)
    expect(input).toBeUndefined()
    expect(Object.fromEntries(errors.map((e) => [e.field, e.message]))).toEqual({
      code: 'rule:code', name: 'rule:name', currency: 'rule:currency', monthlyPriceCents: 'rule:money',
      includedCharacters: 'rule:whole', overagePricePer1000Cents: 'rule:money', maxConcurrentGenerations: 'rule:concurrency',
      maxCharactersPerGeneration: 'rule:atLeastOne', stripePriceId: 'rule:stripePriceId',
      requestsPerMinute: 'rule:requestsPerMinute', maxWebsockets: 'rule:maxWebsockets', maxSubscriptions: 'rule:maxSubscriptions',
    })
    expect(errors.every((e) => e.code === 'BAD_USER_INPUT')).toBe(true)
  })
  it('refuses more than 1000 generations at once', () => {
    const { errors } = adminPlanFormToInput({ ...adminPlanToForm(starter), maxConcurrentGenerations: '1001' }, words)
    expect(errors.map((e) => e.field)).toEqual(['maxConcurrentGenerations'])
  })
  it('keeps the API limits within the server’s ranges', () => {
    const within = { requestsPerMinute: '1000000', maxWebsockets: '1', maxSubscriptions: '10000' }
    expect(adminPlanFormToInput({ ...adminPlanToForm(starter), ...within }, words).errors).toEqual([])
    const over = { requestsPerMinute: '1000001', maxWebsockets: '1001', maxSubscriptions: '10001' }
    expect(adminPlanFormToInput({ ...adminPlanToForm(starter), ...over }, words).errors.map((e) => e.field))
      .toEqual(['requestsPerMinute', 'maxWebsockets', 'maxSubscriptions'])
  })
})

describe('broadcast form', () => {
  const now = new Date('2026-05-01T12:00:00Z')
  it('sends now with null sendAt and null planCodes for everyone', () => {
    const { input } = adminBroadcastFormToInput({ ...adminEmptyBroadcastForm(), subject: ' News ', textBody: 'Hello' }, words, now)
    expect(input).toEqual({ subject: 'News', textBody: 'Hello', htmlBody: null, translations: null, planCodes: null, sendAt: null, optimizeSendTime: false })
  })
  it('adds the Japanese version when either of its fields is filled, and checks it like the other', () => {
    const f = { ...adminEmptyBroadcastForm(), subject: 'News', textBody: 'Hello', jaSubject: ' お知らせ ', jaTextBody: 'こんにちは' }
    expect(adminBroadcastFormToInput(f, words, now).input?.translations).toEqual([{ locale: 'ja', subject: 'お知らせ', textBody: 'こんにちは' }])
    const half = adminBroadcastFormToInput({ ...f, jaTextBody: ' ' }, words, now)
    expect(half.input).toBeUndefined()
    expect(half.errors.map((e) => `${e.field}:${e.message}`)).toEqual(['translations[0].textBody:rule:textBody'])
  })
  it('schedules at a local time as an instant', () => {
    const f = { ...adminEmptyBroadcastForm(), subject: 'S', textBody: 'T', when: 'later' as const, sendAtLocal: '2026-06-01T09:30', planCodes: ['pro'], optimizeSendTime: true }
    const { input } = adminBroadcastFormToInput(f, words, now)
    expect(input?.sendAt).toBe(new Date('2026-06-01T09:30').toISOString())
    expect(input?.planCodes).toEqual(['pro'])
    expect(input?.optimizeSendTime).toBe(true)
  })
  it('refuses an empty subject, body and a time in the past', () => {
    const f = { ...adminEmptyBroadcastForm(), when: 'later' as const, sendAtLocal: '2020-01-01T00:00' }
    const { errors } = adminBroadcastFormToInput(f, words, now)
    expect(errors.map((e) => `${e.field}:${e.message}`)).toEqual(['subject:rule:subject', 'textBody:rule:textBody', 'sendAt:rule:sendAtPast'])
    const missing = adminBroadcastFormToInput({ ...adminEmptyBroadcastForm(), subject: 'S', textBody: 'T', when: 'later' }, words, now)
    expect(missing.errors.map((e) => e.message)).toEqual(['rule:sendAtMissing'])
  })
  it('refuses a subject over 200 characters', () => {
    const { errors } = adminBroadcastFormToInput({ ...adminEmptyBroadcastForm(), subject: 'あ'.repeat(201), textBody: 'x' }, words, now)
    expect(errors.map((e) => e.field)).toEqual(['subject'])
  })
  it('knows which broadcasts can be canceled', () => {
    expect(['SCHEDULED', 'SENDING', 'SENT', 'CANCELED'].map((status) => isBroadcastActive({ status: status as never }))).toEqual([true, true, false, false])
  })
})

describe('KPI range', () => {
  it('turns included days into the half-open UTC range', () => {
    expect(adminRangeToVariables('2026-01-01', '2026-01-31', words)).toEqual({
      errors: [], vars: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
    })
    expect(adminRangeToVariables('2026-01-01', '2026-01-01', words).vars?.to).toBe('2026-01-02T00:00:00.000Z')
  })
  it('refuses missing, reversed and too long ranges', () => {
    expect(adminRangeToVariables('', '2026-01-01', words).errors.map((e) => e.field)).toEqual(['from'])
    expect(adminRangeToVariables('2026-02-01', '2026-01-01', words).errors.map((e) => e.message)).toEqual(['rule:order'])
    expect(adminRangeToVariables('2025-01-01', '2026-12-31', words).errors.map((e) => e.message)).toEqual(['rule:tooLong'])
    expect(adminRangeToVariables('2025-01-01', '2026-02-04', words).errors).toEqual([]) // 400 days
    expect(adminRangeToVariables('2025-01-01', '2026-02-05', words).errors.map((e) => e.message)).toEqual(['rule:tooLong'])
  })
  it('picks the last n days up to today', () => {
    expect(adminLastDays(7, new Date('2026-03-10T23:59:00Z'))).toEqual({ from: '2026-03-04', to: '2026-03-10' })
  })
})
