// The admin area, as an operator (signed in with the admin API key) uses it:
// users and roles, plans, voices, broadcasts, KPIs; and a USER kept out.
// Each page is scanned with axe and photographed.
import { randomUUID } from 'node:crypto'
import type { Page } from '@playwright/test'
import { test, expect, type Gql } from './fixtures'

const ADMIN_PAGES = ['/admin', '/admin/users', '/admin/plans', '/admin/voices', '/admin/broadcasts']

/** A disabled voice would break other specs that generate speech: pick one nobody else uses, and put it back. */
async function pickQuietVoice(gql: Gql): Promise<{ id: string; name: string }> {
  const res = await gql<{ voices: { edges: { node: { id: string; name: string; language: string; enabled: boolean } }[] } }>(
    '{ voices(first: 100) { edges { node { id name language enabled } } } }',
  )
  const voices = res.data!.voices.edges.map((e) => e.node).filter((v) => v.enabled && !/^(en|ja)\b/i.test(v.language))
  const voice = voices.find((v) => /^eu|^cy|^is|^mt/i.test(v.language)) ?? voices[voices.length - 1]
  if (!voice) throw new Error('no voice to toggle')
  return voice
}

async function openSection(page: Page, testid: string, path: string) {
  await page.getByTestId(testid).click()
  await expect(page).toHaveURL(new RegExp(`${path}$`))
}

test.describe('admin area', () => {
  test('an operator finds the admin area in the navigation and moves between its sections by keyboard', async ({ adminPage: page, checkA11y }) => {
    await expect(page.getByTestId('nav-admin')).toBeVisible()
    await page.getByTestId('nav-admin').click()
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible()
    const users = page.getByTestId('admin-nav-users')
    await users.focus()
    await expect(users).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(page).toHaveURL(/\/admin\/users$/)
    await expect(page.getByTestId('admin-nav-users')).toHaveAttribute('aria-current', 'page')
    await checkA11y(page, 'admin-nav')
  })

  test('users and roles: make a user an admin and back', async ({ adminPage: page, newUser, snap, checkA11y, adminGql }) => {
    await page.goto('/admin/users')
    await expect(page.getByRole('heading', { level: 1, name: 'Users and roles' })).toBeVisible()
    await page.getByLabel('Search users').fill(newUser.email)
    const row = page.locator(`[data-email="${newUser.email}"]`)
    await expect(row).toBeVisible()
    await expect(page.getByTestId('user-list').locator('li[data-email]')).toHaveCount(1)
    await expect(row.getByTestId('user-role')).toHaveText('User')

    await row.getByRole('button', { name: /Make admin/ }).click()
    const dialog = page.getByRole('dialog')
    await expect(dialog).toContainText(`Make ${newUser.email} an admin?`)
    await dialog.getByTestId('confirm').click()
    await expect(row.getByTestId('user-role')).toHaveText('Admin')
    await expect(page.getByTestId('role-announce')).toHaveText(`${newUser.email} is now an admin.`)
    const me = await newUser.gql<{ me: { role: string } }>('{ me { role } }')
    expect(me.data?.me.role).toBe('ADMIN')
    await snap(page, 'admin-users')
    await checkA11y(page, 'admin-users')

    // The role filter: an admin now, so among admins and not among users.
    await page.getByLabel('Role').selectOption('USER')
    await expect(page.getByTestId('user-count')).toHaveText('No users match.')
    await page.getByLabel('Role').selectOption('ADMIN')
    await expect(row).toBeVisible()
    await page.getByLabel('Role').selectOption('')

    await row.getByRole('button', { name: /Remove admin/ }).click()
    await page.getByRole('dialog').getByTestId('confirm').click()
    await expect(row.getByTestId('user-role')).toHaveText('User')
    const list = await adminGql<{ users: { edges: { node: { role: string } }[] } }>(
      'query($s: String) { users(search: $s) { edges { node { role } } } }', { s: newUser.email },
    )
    expect(list.data?.users.edges.map((e) => e.node.role)).toEqual(['USER'])
  })

  test('plans: create a plan, edit it, see it saved', async ({ adminPage: page, snap, checkA11y, adminGql }) => {
    const code = `e2e-${randomUUID().slice(0, 8)}`
    const price = `price_e2e_${code.slice(4)}`
    await page.goto('/admin/plans')
    await expect(page.getByRole('heading', { level: 1, name: 'Plans' })).toBeVisible()
    await expect(page.getByTestId('plan-free')).toBeVisible()

    await page.getByTestId('plan-new').click()
    const form = page.getByTestId('plan-form')
    // A new plan starts with the server's default API limits and no Stripe price.
    await expect(form.getByLabel('Requests a minute')).toHaveValue('60')
    await expect(form.getByLabel('Websockets at once')).toHaveValue('5')
    await expect(form.getByLabel('Subscriptions at once')).toHaveValue('20')
    await expect(form.getByLabel('Stripe price id')).toHaveValue('')
    await form.getByLabel('Code').fill(code)
    await form.getByLabel('Name').fill('E2E Team')
    await form.getByLabel('Price a month').fill('12.5')
    await form.getByLabel('Included characters a month').fill('abc')
    await form.getByRole('button', { name: 'Save plan' }).click()
    // Wrong input is explained next to its field, and focus goes there.
    const included = form.getByLabel('Included characters a month')
    await expect(included).toHaveAttribute('aria-invalid', 'true')
    await expect(included).toBeFocused()
    await expect(form).toContainText('Enter a whole number of 0 or more.')
    await checkA11y(page, 'admin-plans-form')

    await included.fill('250000')
    await form.getByLabel('Generations at once').fill('3')
    await form.getByLabel('Longest text per generation (characters)').fill('8000')
    await form.getByLabel('Allow overage beyond the included characters').check()
    await form.getByLabel('Price per 1,000 characters of overage').fill('0.25')
    await form.getByLabel('Stripe price id').fill(price)
    await form.getByLabel('Selling points').fill('For the end-to-end test\nSecond line')
    await form.getByRole('button', { name: 'Save plan' }).click()
    const card = page.getByTestId(`plan-${code}`)
    await expect(page.getByTestId('plan-status')).toHaveText('Saved the E2E Team plan.')
    await expect(card.getByTestId('plan-price-shown')).toHaveText('$12.50 a month')
    await expect(card).toContainText('$0.25 per 1,000 characters')
    await expect(card.getByTestId('plan-stripe-shown')).toHaveText(price)
    await expect(card.getByTestId('plan-limits-shown')).toHaveText('60 requests a minute, 5 websockets, 20 subscriptions')

    // Editing: the form starts with the plan's Stripe price and limits; a limit out of range is explained next to it.
    await card.getByRole('button', { name: /Edit/ }).click()
    const edit = card.getByTestId('plan-form')
    await expect(edit.getByLabel('Code')).toHaveAttribute('readonly', '')
    await expect(edit.getByLabel('Stripe price id')).toHaveValue(price)
    await expect(edit).not.toContainText('enter it again')
    await edit.getByLabel('Name').fill('E2E Team Plus')
    await edit.getByLabel('Included characters a month').fill('300000')
    await edit.getByLabel('Stripe price id').fill(`${price}_v2`)
    await edit.getByLabel('Requests a minute').fill('240')
    await edit.getByLabel('Websockets at once').fill('1001')
    await edit.getByLabel('Subscriptions at once').fill('30')
    await edit.getByRole('button', { name: 'Save plan' }).click()
    const websockets = edit.getByLabel('Websockets at once')
    await expect(websockets).toHaveAttribute('aria-invalid', 'true')
    await expect(websockets).toBeFocused()
    await expect(edit).toContainText('Enter a whole number between 1 and 1,000.')
    await websockets.fill('7')
    await edit.getByRole('button', { name: 'Save plan' }).click()
    await expect(card.getByTestId('plan-title')).toHaveText('E2E Team Plus')
    await expect(card.getByTestId('plan-included-shown')).toHaveText('300,000')
    await expect(card.getByTestId('plan-stripe-shown')).toHaveText(`${price}_v2`)
    await expect(card.getByTestId('plan-limits-shown')).toHaveText('240 requests a minute, 7 websockets, 30 subscriptions')

    type SavedPlan = {
      code: string; name: string; includedCharacters: number; monthlyPriceCents: number; overagePricePer1000Cents: number | null; features: string[]
      stripePriceId: string | null; requestsPerMinute: number; maxWebsockets: number; maxSubscriptions: number
    }
    const savedPlan = async () => (await adminGql<{ plans: SavedPlan[] }>(
      '{ plans { code name includedCharacters monthlyPriceCents overagePricePer1000Cents features stripePriceId requestsPerMinute maxWebsockets maxSubscriptions } }',
    )).data?.plans.find((p) => p.code === code)
    expect(await savedPlan()).toEqual({
      code, name: 'E2E Team Plus', includedCharacters: 300000, monthlyPriceCents: 1250, overagePricePer1000Cents: 25,
      features: ['For the end-to-end test', 'Second line'],
      stripePriceId: `${price}_v2`, requestsPerMinute: 240, maxWebsockets: 7, maxSubscriptions: 30,
    })

    // The edited price and limits survive a reload, in the card and in the form.
    await page.reload()
    const again = page.getByTestId(`plan-${code}`)
    await expect(again.getByTestId('plan-title')).toHaveText('E2E Team Plus')
    await expect(again.getByTestId('plan-stripe-shown')).toHaveText(`${price}_v2`)
    await expect(again.getByTestId('plan-limits-shown')).toHaveText('240 requests a minute, 7 websockets, 30 subscriptions')
    await snap(page, 'admin-plans')
    await checkA11y(page, 'admin-plans')
    await again.getByRole('button', { name: /Edit/ }).click()
    const reopened = again.getByTestId('plan-form')
    await expect(reopened.getByLabel('Stripe price id')).toHaveValue(`${price}_v2`)
    await expect(reopened.getByLabel('Requests a minute')).toHaveValue('240')
    await expect(reopened.getByLabel('Websockets at once')).toHaveValue('7')
    await expect(reopened.getByLabel('Subscriptions at once')).toHaveValue('30')

    // Clearing the price says it will be removed, and saving removes it; the limits stay.
    await reopened.getByLabel('Stripe price id').fill('')
    await expect(reopened).toContainText("Empty: saving removes the plan's Stripe price")
    await checkA11y(page, 'admin-plans-edit')
    await reopened.getByRole('button', { name: 'Save plan' }).click()
    await expect(again.getByTestId('plan-stripe-shown')).toHaveText('None')
    expect(await savedPlan()).toMatchObject({ stripePriceId: null, requestsPerMinute: 240, maxWebsockets: 7, maxSubscriptions: 30 })
  })

  test('voices: turn a voice off and on again', async ({ adminPage: page, snap, checkA11y, adminGql }) => {
    const voice = await pickQuietVoice(adminGql)
    const enabledOf = async () => (await adminGql<{ voice: { enabled: boolean } }>('query($id: ID!) { voice(id: $id) { enabled } }', { id: voice.id })).data?.voice.enabled
    try {
      await page.goto('/admin/voices')
      await expect(page.getByRole('heading', { level: 1, name: 'Voices' })).toBeVisible()
      await expect(page.getByTestId('voice-row').first()).toBeVisible()
      await checkA11y(page, 'admin-voices')
      await snap(page, 'admin-voices')

      await page.getByLabel('Search voices').fill(voice.name)
      const row = page.locator(`[data-voice-id="${voice.id}"]`)
      await expect(row).toBeVisible()
      // The label reads "Enabled" plus the voice's name for screen readers.
      const toggle = row.getByRole('switch', { name: new RegExp(`^Enabled\\s*:\\s*${voice.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
      await expect(toggle).toBeChecked()
      await toggle.focus()
      await page.keyboard.press('Space')
      await expect(toggle).not.toBeChecked()
      await expect(row.getByTestId('voice-disabled')).toHaveText('Disabled')
      await expect(page.getByTestId('voice-announce')).toHaveText(`${voice.name} is disabled.`)
      await expect.poll(enabledOf).toBe(false)

      // Only the voices that are off: this one is among them, and only then.
      await page.getByLabel('On or off').selectOption('off')
      await expect(row).toBeVisible()
      await expect(page.getByTestId('voice-row').filter({ has: page.getByRole('switch', { checked: true }) })).toHaveCount(0)
      await page.getByLabel('On or off').selectOption('on')
      await expect(row).toHaveCount(0)

      await page.reload()
      await page.getByLabel('Search voices').fill(voice.name)
      await expect(page.locator(`[data-voice-id="${voice.id}"]`).getByRole('switch')).not.toBeChecked()
      await page.locator(`[data-voice-id="${voice.id}"]`).getByRole('switch').click()
      await expect(page.locator(`[data-voice-id="${voice.id}"]`).getByRole('switch')).toBeChecked()
      await expect.poll(enabledOf).toBe(true)
    } finally {
      await adminGql('mutation($id: ID!) { setVoiceEnabled(id: $id, enabled: true) { id } }', { id: voice.id })
    }
  })

  test('broadcasts: schedule one for tomorrow, see it listed, cancel it', async ({ adminPage: page, snap, checkA11y, adminGql }) => {
    const subject = `E2E broadcast ${randomUUID().slice(0, 8)}`
    await page.goto('/admin/broadcasts')
    await expect(page.getByRole('heading', { level: 1, name: 'Broadcasts' })).toBeVisible()
    const form = page.getByTestId('broadcast-form')

    // Nothing typed: the missing fields are named in words.
    await form.getByRole('button', { name: 'Schedule broadcast' }).click()
    await expect(form.getByTestId('broadcast-subject')).toHaveAttribute('aria-invalid', 'true')
    await expect(form).toContainText('Enter a subject of 1 to 200 characters.')

    await form.getByTestId('broadcast-subject').fill(subject)
    await form.getByLabel('Message (plain text)').fill('Hello from the end-to-end test.\nThis is canceled before it goes out.')
    await form.getByText('Add a Japanese version (optional)').click()
    await form.getByLabel('Subject in Japanese').fill('テストのお知らせ')
    await form.getByLabel('Message in Japanese (plain text)').fill('エンドツーエンドテストからのお知らせです。')
    await form.getByTestId('broadcast-plan-pro').check()
    await form.getByLabel('Schedule', { exact: true }).check()
    const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000)
    const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
    await form.getByLabel('Send at').fill(local)
    await form.getByLabel('Optimize send time').check()
    await checkA11y(page, 'admin-broadcasts-compose')
    await form.getByRole('button', { name: 'Schedule broadcast' }).click()
    const dialog = page.getByRole('dialog', { name: 'Schedule this broadcast?' })
    await expect(dialog).toContainText('To people on these plans who accept product news: Pro.')
    await dialog.getByTestId('confirm').click()

    const row = page.locator(`[data-testid="broadcast-row"][data-subject="${subject}"]`)
    await expect(row).toBeVisible()
    await expect(row.getByTestId('broadcast-state')).toHaveText('Scheduled')
    await expect(row.getByTestId('broadcast-progress')).toContainText('sent')
    await expect(row).toContainText("at each person's usual hour")
    await expect(page.getByTestId('broadcast-status')).toHaveText(`Scheduled “${subject}”.`)
    await expect(form.getByTestId('broadcast-subject')).toHaveValue('')
    await snap(page, 'admin-broadcasts')
    await checkA11y(page, 'admin-broadcasts')

    await row.getByRole('button', { name: /Cancel broadcast/ }).click()
    await page.getByRole('dialog', { name: 'Cancel this broadcast?' }).getByTestId('confirm').click()
    await expect(row.getByTestId('broadcast-state')).toHaveText('Canceled')
    await expect(row.getByRole('button', { name: /Cancel broadcast/ })).toHaveCount(0)

    type Listed = { subject: string; status: string; optimizeSendTime: boolean; translations: { locale: string; subject: string }[] }
    const list = await adminGql<{ broadcasts: { edges: { node: Listed }[] } }>(
      '{ broadcasts(first: 50) { edges { node { subject status optimizeSendTime translations { locale subject } } } } }',
    )
    expect(list.data?.broadcasts.edges.map((e) => e.node).find((b) => b.subject === subject)).toEqual({
      subject, status: 'CANCELED', optimizeSendTime: true, translations: [{ locale: 'ja', subject: 'テストのお知らせ' }],
    })
  })

  test('KPIs: figures and daily charts for a date range', async ({ adminPage: page, snap, checkA11y }) => {
    await page.goto('/admin')
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible()
    await expect(page.getByTestId('kpi-mrr')).toContainText('$')
    await expect(page.getByTestId('kpi-success')).toContainText('%')
    await expect(page.getByTestId('chart-generations').getByTestId('chart-bar')).toHaveCount(30)

    await page.getByRole('button', { name: 'Last 7 days' }).click()
    await expect(page.getByTestId('chart-generations').getByTestId('chart-bar')).toHaveCount(7)
    await expect(page.getByTestId('kpi-preset-7')).toHaveAttribute('aria-pressed', 'true')

    // A reversed range is explained next to the field, and nothing is asked.
    await page.getByLabel('From', { exact: true }).fill('2026-03-10')
    await page.getByLabel('To (included)').fill('2026-03-01')
    await page.getByRole('button', { name: 'Show', exact: true }).click()
    await expect(page.getByLabel('To (included)')).toHaveAttribute('aria-invalid', 'true')
    await expect(page.getByText('The last day must be on or after the first day.')).toBeVisible()

    await page.getByLabel('To (included)').fill('2026-03-20')
    await page.getByRole('button', { name: 'Show', exact: true }).click()
    await expect(page.getByTestId('chart-generations').getByTestId('chart-bar')).toHaveCount(11)
    await page.getByTestId('chart-generations').getByText('Show the numbers as a table').click()
    await expect(page.getByTestId('chart-generations').locator('tbody tr')).toHaveCount(11)
    await page.getByTestId('kpi-preset-30').click()
    await expect(page.getByTestId('chart-generations').getByTestId('chart-bar')).toHaveCount(30)
    await snap(page, 'admin-kpis')
    await checkA11y(page, 'admin-kpis')
  })

  test('every admin page works at phone width', async ({ adminPage: page, snap, checkA11y }) => {
    await page.setViewportSize({ width: 375, height: 740 })
    for (const path of ADMIN_PAGES) {
      await page.goto(path)
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
      await expect(page.locator('main')).not.toContainText('Loading…', { timeout: 15_000 })
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(1)
      const name = `admin-phone-${path.split('/').filter(Boolean).join('-')}`
      await snap(page, name)
      await checkA11y(page, name)
    }
  })

  test('a USER does not see Admin and is sent away from every admin page with a message', async ({ userPage: page, snap }) => {
    await expect(page.getByTestId('nav-studio')).toBeVisible()
    await expect(page.getByTestId('nav-admin')).toHaveCount(0)
    for (const path of ADMIN_PAGES) {
      await page.goto(path)
      await expect(page).toHaveURL(/\/forbidden/)
      await expect(page.getByTestId('forbidden')).toContainText('It is for operators of Koe only.')
    }
    await snap(page, 'admin-forbidden')
  })

  test('the admin area speaks Japanese', async ({ adminPage: page, checkA11y }) => {
    await page.goto('/admin/broadcasts')
    await page.getByTestId('language-switcher').selectOption('ja')
    await expect(page.getByRole('heading', { level: 1, name: '一斉配信' })).toBeVisible()
    await expect(page.getByTestId('admin-nav-users')).toHaveText('ユーザー')
    await page.getByTestId('broadcast-form').getByRole('button', { name: '一斉配信を予約' }).click()
    await expect(page.getByTestId('broadcast-form')).toContainText('1〜200文字の件名を入力してください。')
    await checkA11y(page, 'admin-ja')
  })
})
