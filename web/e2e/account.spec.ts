// The account area as a signed-in person uses it: usage and billing (on a
// server without Stripe), notifications (live bell, mark read, email
// preferences), API keys (secret shown once, revoke). Each page is scanned
// with axe and photographed, at desktop and phone width.
import type { Page } from '@playwright/test'
import { test, expect, type Gql } from './fixtures'
import { createGeneration, prose, waitForGeneration } from './helpers'

const PHONE = { width: 390, height: 844 }

async function unreadCount(gql: Gql): Promise<number> {
  const r = await gql<{ notifications: { totalCount: number } }>('{ notifications(unreadOnly: true, first: 0) { totalCount } }')
  return r.data!.notifications.totalCount
}

/** The page fits the viewport: nothing wider than the screen. */
async function expectNoSideways(page: Page) {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  expect(scroll, 'page is wider than the viewport').toBeLessThanOrEqual(inner)
}

test.describe('account area', () => {
  test('usage and billing: the meter and daily chart after a generation, and billing says it is not available', async ({ userPage: page, newUser, snap, checkA11y }) => {
    const id = await createGeneration(newUser.gql, prose(120))
    expect(await waitForGeneration(newUser.gql, id)).toBe('SUCCEEDED')

    await page.getByTestId('nav-usage').click()
    await expect(page).toHaveURL(/\/usage$/)
    await expect(page.getByRole('heading', { level: 1, name: 'Usage & billing' })).toBeVisible()
    const meter = page.getByRole('progressbar', { name: 'Characters used this period' })
    await expect(meter).toBeVisible()
    await expect(page.getByTestId('usage-included')).toHaveText('20,000')
    await expect(page.getByTestId('usage-used')).not.toHaveText('0')
    await expect(page.getByTestId('usage-summary')).toContainText('of 20,000 characters used')
    await expect(page.getByTestId('usage-chart').locator('rect').last()).toHaveAttribute('height', /^(?!0$)/)

    // The chart's figures as a table, opened by keyboard.
    await page.getByText('Show the figures as a table').focus()
    await page.keyboard.press('Enter')
    await expect(page.getByTestId('usage-table')).toBeVisible()

    // No Stripe on this server: a clear notice, plans shown, no buy buttons.
    await expect(page.getByTestId('billing-unavailable')).toContainText('Billing is not available')
    await expect(page.getByTestId('plan-free')).toContainText('Current plan')
    await expect(page.getByTestId('plan-pro')).toBeVisible()
    await expect(page.locator('[data-testid^="choose-plan-"]')).toHaveCount(0)
    await expect(page.locator('[data-testid^="buy-pack-"]')).toHaveCount(0)
    await expect(page.getByTestId('manage-billing')).toHaveCount(0)
    await snap(page, 'account-usage')
    await checkA11y(page, 'account-usage')

    await page.setViewportSize(PHONE)
    await expectNoSideways(page)
    await snap(page, 'account-usage-phone')
  })

  test('billing result pages after Checkout', async ({ userPage: page, snap, checkA11y }) => {
    await page.goto('/billing/success?kind=credits&session_id=cs_test_1')
    await expect(page.getByRole('heading', { level: 1, name: 'Thank you!' })).toBeVisible()
    await expect(page.getByTestId('checkout-success')).toContainText('credits are added')
    await expect(page.getByTestId('success-plan')).toHaveText('Free')
    await snap(page, 'account-billing-success')
    await checkA11y(page, 'account-billing-success')

    await page.goto('/billing/cancel?kind=plan')
    await expect(page.getByRole('heading', { level: 1, name: 'Checkout canceled' })).toBeVisible()
    await snap(page, 'account-billing-cancel')
    await checkA11y(page, 'account-billing-cancel')
    await page.getByRole('link', { name: 'Back to usage & billing' }).click()
    await expect(page).toHaveURL(/\/usage$/)
  })

  test('notifications: the bell counts live, mark one and all read', async ({ userPage: page, newUser, snap, checkA11y }) => {
    const bell = page.getByTestId('notifications-bell')
    await expect(bell).toHaveAccessibleName('Notifications, none unread')
    await bell.click()
    await expect(page).toHaveURL(/\/notifications$/)
    await expect(page.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible()
    await expect(page.getByTestId('notifications-empty')).toBeVisible()

    // A finished generation becomes a notification, pushed to the open page.
    const first = await createGeneration(newUser.gql, 'Hello from the notifications test.')
    await waitForGeneration(newUser.gql, first)
    await expect(page.getByTestId('notifications-unread')).toHaveText('1', { timeout: 30_000 })
    await expect(bell).toHaveAccessibleName('Notifications, 1 unread')
    const item = page.locator('[data-testid="notifications-list"] li[data-unread="true"]')
    await expect(item).toHaveCount(1)
    await snap(page, 'account-notifications')
    await checkA11y(page, 'account-notifications')

    await item.getByTestId('mark-read').click()
    await expect(page.getByTestId('notifications-unread')).toHaveCount(0)
    await expect(page.locator('[data-testid="notifications-list"] li[data-unread="true"]')).toHaveCount(0)
    expect(await unreadCount(newUser.gql)).toBe(0)

    // Two more, then "Mark all as read"; the count survives a reload.
    for (const text of ['Second notice.', 'Third notice.']) {
      await waitForGeneration(newUser.gql, await createGeneration(newUser.gql, text))
    }
    await expect(page.getByTestId('notifications-unread')).toHaveText('2', { timeout: 30_000 })
    await page.reload()
    await expect(page.getByTestId('notifications-unread')).toHaveText('2')
    await expect(page.getByTestId('unread-summary')).toHaveText('2 unread notifications')
    await page.getByTestId('notifications-filter').selectOption('unread')
    await expect(page.locator('[data-testid="notifications-list"] > li')).toHaveCount(2)
    await page.getByTestId('mark-all-read').click()
    await expect(page.getByTestId('notifications-unread')).toHaveCount(0)
    await expect(page.getByTestId('notifications-empty')).toHaveText('You have read everything.')
    expect(await unreadCount(newUser.gql)).toBe(0)

    await page.setViewportSize(PHONE)
    await page.getByTestId('notifications-filter').selectOption('all')
    await expect(page.locator('[data-testid="notifications-list"] > li')).toHaveCount(3)
    await expectNoSideways(page)
    await snap(page, 'account-notifications-phone')
  })

  test('notification preferences: each switch saves and persists', async ({ userPage: page, newUser, checkA11y }) => {
    await page.goto('/notifications')
    const news = page.getByLabel('Product news')
    const billing = page.getByLabel('Billing', { exact: true })
    await expect(news).not.toBeChecked()
    await expect(billing).toBeChecked()

    // By keyboard: Space toggles the focused checkbox.
    await news.focus()
    await page.keyboard.press('Space')
    await expect(page.getByTestId('pref-status')).toHaveText('Saved.')
    await billing.uncheck()
    await expect(page.getByTestId('pref-status')).toHaveText('Saved.')
    await expect(billing).toBeEnabled()

    await page.reload()
    await expect(page.getByLabel('Product news')).toBeChecked()
    await expect(page.getByLabel('Billing', { exact: true })).not.toBeChecked()
    const r = await newUser.gql<{ me: { notificationPreferences: Record<string, boolean> } }>(
      '{ me { notificationPreferences { emailOnGenerationFinished emailOnUsageThreshold emailOnBilling productNews } } }',
    )
    expect(r.data?.me.notificationPreferences).toEqual({ emailOnGenerationFinished: true, emailOnUsageThreshold: true, emailOnBilling: false, productNews: true })
    await checkA11y(page, 'account-preferences')
  })

  test('API keys: create shows the secret once with copy, the key works, revoke with confirm stops it', async ({ userPage: page, newUser, gqlAs, snap, checkA11y, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await page.getByTestId('nav-api-keys').click()
    await expect(page).toHaveURL(/\/api-keys$/)
    await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible()
    await expect(page.getByTestId('keys-empty')).toBeVisible()

    // An empty name is refused next to the field.
    await page.getByTestId('create-key').click()
    await expect(page.locator('#key-name-error')).toHaveText('Give the key a name.')
    await expect(page.getByLabel('Name')).toBeFocused()

    // Keyboard: type the name and press Enter.
    await page.getByLabel('Name').fill('E2E script')
    await page.keyboard.press('Enter')
    const secretField = page.getByLabel('Secret')
    await expect(secretField).toBeVisible()
    const secret = await secretField.inputValue()
    expect(secret).toMatch(/^koe_/)
    await page.getByTestId('copy-secret').click()
    await expect(page.getByTestId('copy-status')).not.toBeEmpty()
    const copied = await page.evaluate(() => navigator.clipboard.readText().catch(() => null))
    if (copied !== null) expect(copied).toBe(secret)
    await snap(page, 'account-api-keys-secret')
    await checkA11y(page, 'account-api-keys-secret')

    const asKey = gqlAs(secret)
    const me = await asKey<{ me: { id: string } }>('{ me { id } }')
    expect(me.data?.me.id).toBe(newUser.id)

    // Shown once: gone after "I have saved it", and after a reload.
    await page.getByTestId('secret-done').click()
    await expect(page.getByTestId('secret-reveal')).toHaveCount(0)
    await page.reload()
    await expect(page.locator('[data-testid="keys-list"] > li')).toHaveCount(1)
    expect(await page.content()).not.toContain(secret)
    const row = page.locator('[data-testid="keys-list"] > li').first()
    await expect(row).toContainText('E2E script')
    const prefix = (await row.getByTestId('key-prefix').textContent())!.replace('…', '')
    expect(secret.startsWith(prefix)).toBe(true)
    await expect(row.getByTestId('key-status')).toHaveText('Active')
    await expect(row.getByTestId('key-last-used')).toBeVisible()
    await snap(page, 'account-api-keys')
    await checkA11y(page, 'account-api-keys')

    // Revoke: cancel first (nothing happens), then confirm.
    await row.getByRole('button', { name: 'Revoke key “E2E script”' }).click()
    const dialog = page.getByRole('dialog')
    await expect(dialog).toContainText('Revoke “E2E script”?')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await expect(row.getByTestId('key-status')).toHaveText('Active')
    await row.getByRole('button', { name: 'Revoke key “E2E script”' }).click()
    await dialog.getByTestId('confirm').click()
    await expect(row.getByTestId('key-status')).toHaveText('Revoked')
    await expect(row.getByRole('button', { name: /Revoke/ })).toHaveCount(0)
    const after = await asKey('{ me { id } }')
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')

    await page.setViewportSize(PHONE)
    await expectNoSideways(page)
    await snap(page, 'account-api-keys-phone')
  })

  test('Japanese: the account pages speak Japanese', async ({ userPage: page, snap, checkA11y }) => {
    await page.goto('/usage')
    await page.getByTestId('language-switcher').selectOption('ja')
    await expect(page.getByRole('heading', { level: 2, name: '今期の利用状況' })).toBeVisible()
    await expect(page.getByTestId('billing-unavailable')).toContainText('お支払い機能は利用できません')
    await snap(page, 'account-usage-ja')
    await checkA11y(page, 'account-usage-ja')
    await page.goto('/api-keys')
    await expect(page.getByRole('heading', { level: 2, name: 'キーを作成' })).toBeVisible()
    await page.goto('/notifications')
    await expect(page.getByRole('heading', { level: 2, name: 'メールの設定' })).toBeVisible()
    await snap(page, 'account-notifications-ja')
  })
})
