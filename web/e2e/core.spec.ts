// The core journeys: sign-up to generated speech, history, API keys, roles,
// quota, languages, phone width. Each page is screenshotted and scanned by axe.
import { test, expect, signInWithApiKey, uniqueEmail } from './fixtures'
import { audioDuration, createGeneration, playAudio, prose, waitForGeneration } from './helpers'

test('sign up, generate ~500 characters, watch progress to 100%, play it, find it in History, sign out', async ({ page, snap, checkA11y }) => {
  await page.goto('/')
  await expect(page).toHaveURL(/\/signin/)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to Koe')
  await snap(page, 'signin')
  await checkA11y(page, 'signin')

  await page.getByTestId('toggle-signup').click()
  await page.getByLabel('Email').fill(uniqueEmail('journey'))
  await page.getByLabel('Password').fill('correct horse battery')
  await page.getByTestId('submit').click()
  await expect(page).toHaveURL(/\/$/)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Studio')
  await expect(page.getByTestId('whoami')).toContainText('Free plan')

  const text = prose(500)
  await page.getByLabel('Text', { exact: true }).fill(text)
  await expect(page.getByTestId('char-count')).toHaveText('500 / 5,000 characters')
  await expect(page.getByTestId('cost')).toHaveText('Costs 500 of your 20,000 remaining characters.')
  await expect(page.locator('input[name="voice"]:checked')).toHaveCount(1)
  await page.getByLabel('Format').selectOption('MP3')
  await snap(page, 'studio')
  await checkA11y(page, 'studio')

  // Record every percentage the bar shows, to see it move and reach 100%.
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { __seen: string[] }).__seen = seen
    new MutationObserver(() => {
      const v = document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')
      if (v && seen[seen.length - 1] !== v) seen.push(v)
    }).observe(document.body, { subtree: true, childList: true, attributes: true })
  })
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.getByRole('progressbar')).toBeVisible()
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100', { timeout: 60_000 })
  const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)
  expect(seen.at(-1)).toBe('100')
  expect(seen.length, `progress values seen: ${seen.join(', ')}`).toBeGreaterThan(1)
  await expect(page.getByTestId('progress-detail')).toHaveText(/(\d+) of \1 chunks/)

  await expect(page.getByTestId('result-audio')).toBeVisible()
  const duration = await audioDuration(page, 'result-audio')
  expect(duration).toBeGreaterThan(10) // 500 characters of speech
  expect(await playAudio(page, 'result-audio')).toBeGreaterThan(0)
  await expect(page.getByTestId('download')).toHaveAttribute('download', /\.mp3$/)
  // Usage has been refreshed: the reservation is counted.
  await expect(page.getByTestId('cost')).toHaveText('Costs 500 of your 19,500 remaining characters.')
  await snap(page, 'studio-result')
  await checkA11y(page, 'studio-result')

  await page.getByRole('link', { name: 'History' }).click()
  await expect(page).toHaveURL(/\/history/)
  const item = page.getByTestId('history-item').first()
  await expect(item).toHaveAttribute('data-status', 'SUCCEEDED')
  await expect(item.getByTestId('history-text')).toContainText(text.slice(0, 60))
  await item.getByTestId('history-play').click()
  expect(await audioDuration(page, 'history-audio')).toBeCloseTo(duration, 0)
  await snap(page, 'history')
  await checkA11y(page, 'history')

  await page.getByTestId('sign-out').click()
  await expect(page).toHaveURL(/\/signin/)
  await page.goto('/history')
  await expect(page).toHaveURL(/\/signin\?next=%2Fhistory|\/signin\?next=\/history/)
})

test('API-key sign-in comes back to the page asked for, survives a reload, and signs out', async ({ page, newUser }) => {
  const created = await newUser.gql<{ createApiKey: { secret: string } }>('mutation { createApiKey(name: "e2e") { secret } }')
  const secret = created.data!.createApiKey.secret
  expect(secret).toMatch(/^koe_/)

  await page.goto('/history')
  await expect(page).toHaveURL(/\/signin\?next=/)
  await page.getByTestId('use-api-key').click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in with an API key')
  await page.getByLabel('API key').fill('koe_not-a-real-key')
  await page.getByTestId('submit-key').click()
  await expect(page.locator('[data-error-code=UNAUTHENTICATED]')).toBeVisible()

  await page.getByLabel('API key').fill(secret)
  await page.getByTestId('submit-key').click()
  await expect(page).toHaveURL(/\/history$/)
  await expect(page.getByTestId('whoami')).toContainText(newUser.email)
  await page.reload()
  await expect(page.getByTestId('whoami')).toContainText(newUser.email)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('History')

  await page.getByTestId('sign-out').click()
  await expect(page).toHaveURL(/\/signin/)
  expect(await page.evaluate(() => sessionStorage.getItem('koe.apiKey') ?? localStorage.getItem('koe.apiKey'))).toBeNull()
})

// The real popup cannot be tested here: before it opens, Firebase's SDK loads
// Google's iframe script from apis.google.com, emulator or not, and the test
// network reaches no Google. What a person sees when that happens can be.
test('Google sign-in when Google cannot be reached: words, not an error code, and email sign-in still works', async ({ page }) => {
  await page.route('https://apis.google.com/**', (route) => route.abort('internetdisconnected'))
  await page.goto('/signin')
  await page.getByTestId('google').click()
  await expect(page.getByRole('alert')).toHaveText('Google sign-in could not start: Google could not be reached. Try again, or sign in with email.')
  await expect(page.getByTestId('google')).toBeEnabled()

  await page.getByTestId('toggle-signup').click()
  await page.getByLabel('Email').fill(uniqueEmail('nogoogle'))
  await page.getByLabel('Password').fill('correct horse battery')
  await page.getByTestId('submit').click()
  await expect(page).toHaveURL(/\/$/)
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Studio')
})

test('a USER cannot reach Admin, and the nav hides it; an ADMIN sees it', async ({ userPage: page, browser, env }) => {
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0)
  await page.goto('/admin')
  await expect(page).toHaveURL(/\/forbidden/)
  await expect(page.getByTestId('forbidden')).toContainText('for operators of Koe only')

  const admin = await browser.newPage()
  await signInWithApiKey(admin, env.adminKey)
  await expect(admin.getByRole('link', { name: 'Admin' })).toBeVisible()
  await admin.getByRole('link', { name: 'Admin' }).click()
  await expect(admin).toHaveURL(/\/admin/)
  await admin.close()
})

test('over the quota: the studio warns, and Generate shows the quota message next to the text', async ({ page, newUser, signInAs }) => {
  test.setTimeout(120_000)
  // The free plan includes 20,000 characters: use them through the API.
  for (let i = 0; i < 4; i++) {
    const id = await createGeneration(newUser.gql, prose(5000))
    expect(await waitForGeneration(newUser.gql, id)).toBe('SUCCEEDED')
  }
  await signInAs(page, newUser)
  await page.getByLabel('Text', { exact: true }).fill(prose(300))
  await expect(page.getByTestId('cost')).toHaveText('Costs 300 of your 0 remaining characters.')
  await expect(page.getByTestId('over-quota')).toHaveText('This is more than the 0 characters you have left this period.')
  await page.getByRole('button', { name: 'Generate' }).click()
  const err = page.locator('#text-error [data-error-code=QUOTA_EXCEEDED]')
  await expect(err).toHaveText(/You have used all your characters for this period/)
  await expect(page.getByLabel('Text', { exact: true })).toHaveAttribute('aria-describedby', /text-error/)
  await expect(page.getByRole('progressbar')).toHaveCount(0)
})

test('over the plan’s characters per generation: the field says so, before and after Generate', async ({ userPage: page }) => {
  await page.getByLabel('Text', { exact: true }).fill(prose(5001))
  await expect(page.getByTestId('over-max')).toHaveText('Your plan allows at most 5,000 characters per generation.')
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.locator('#text-error [data-error-code=BAD_USER_INPUT]')).toContainText('your plan allows 5000 per generation')

  // In Japanese the server's own words come in Japanese too.
  await page.getByTestId('language-switcher').selectOption('ja')
  await page.getByRole('button', { name: '生成' }).click()
  await expect(page.locator('#text-error [data-error-code=BAD_USER_INPUT]')).toContainText('ご利用のプランでは 1 回の生成につき 5000 文字までです')
})

test('Japanese: the switcher and a Japanese browser both render Japanese text', async ({ page, browser, newUser, snap, checkA11y }) => {
  await page.goto('/signin')
  await page.getByLabel('Language').selectOption('ja')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Koe にログイン')
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja')
  await page.getByLabel('メールアドレス').fill(newUser.email)
  await page.getByLabel('パスワード').fill(newUser.password)
  await page.getByTestId('submit').click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('スタジオ')
  await expect(page.getByRole('link', { name: '履歴' })).toBeVisible()
  await page.getByLabel('テキスト', { exact: true }).fill('こんにちは、声です。')
  await expect(page.getByTestId('char-count')).toHaveText('10 / 5,000 文字')
  // Languages are a list named in Japanese with their voices; Japanese is picked, and its voices
  // are named in Japanese too (not "Japanese · Japanese (ja)").
  const languages = page.getByTestId('voice-language')
  await expect(languages.locator('option:checked')).toHaveText(/^日本語 \(\d+\)$/)
  await expect(languages.locator('option', { hasText: /^英語 \(\d+\)$/ })).toHaveCount(1)
  await expect(page.getByTestId('voice-list').locator('label').first()).toContainText('日本語')
  await expect(page.getByTestId('voice-list')).not.toContainText('Japanese')
  await snap(page, 'studio-ja')
  await checkA11y(page, 'studio-ja')

  const ctx = await browser.newContext({ locale: 'ja-JP' })
  const jp = await ctx.newPage()
  await jp.goto('/signin')
  await expect(jp.getByRole('heading', { level: 1 })).toHaveText('Koe にログイン')
  await ctx.close()
})

test('History: live rows, retry, cancel state, delete with confirm, status filter', async ({ userPage: page, newUser, snap }) => {
  await page.goto('/history')
  await expect(page.getByTestId('history-empty')).toBeVisible()

  // A generation made elsewhere shows up live and finishes live.
  const id = await createGeneration(newUser.gql, prose(200))
  const row = page.locator(`[data-testid=history-item][data-id="${id}"]`)
  await expect(row).toBeVisible()
  await expect(row).toHaveAttribute('data-status', 'SUCCEEDED', { timeout: 30_000 })

  // A canceled one can be retried: the retry is a new generation.
  const long = await createGeneration(newUser.gql, prose(4000))
  await newUser.gql('mutation($id: ID!) { cancelGeneration(id: $id) { id } }', { id: long }).catch(() => undefined)
  const canceledRow = page.locator(`[data-testid=history-item][data-id="${long}"]`)
  const finalStatus = await waitForGeneration(newUser.gql, long)
  await expect(canceledRow).toHaveAttribute('data-status', finalStatus)
  if (finalStatus === 'CANCELED') {
    await canceledRow.getByTestId('history-retry').click()
    await expect(page.getByTestId('history-item')).toHaveCount(3)
  }
  await snap(page, 'history-actions')

  await page.getByLabel('Status').selectOption('SUCCEEDED')
  await expect(page).toHaveURL(/status=SUCCEEDED/)
  for (const s of await page.getByTestId('history-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))) expect(s).toBe('SUCCEEDED')
  await page.getByLabel('Status').selectOption('')

  // Delete asks first; Cancel in the dialog keeps it.
  const before = await page.getByTestId('history-item').count()
  await row.getByTestId('history-delete').click()
  await expect(page.getByRole('dialog')).toBeVisible()
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
  await expect(row).toBeVisible()
  await row.getByTestId('history-delete').click()
  await page.getByRole('dialog').getByTestId('confirm').click()
  await expect(row).toHaveCount(0)
  await expect(page.getByTestId('history-item')).toHaveCount(before - 1)
})

test('phone width: the menu opens from a button, and the page works by keyboard', async ({ userPage: page, snap, checkA11y }) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto('/')
  const nav = page.getByRole('navigation', { name: 'Main' })
  await expect(nav).toBeHidden()
  const menu = page.getByRole('button', { name: 'Menu' })
  await expect(menu).toHaveAttribute('aria-expanded', 'false')
  await menu.click()
  await expect(menu).toHaveAttribute('aria-expanded', 'true')
  await expect(nav).toBeVisible()
  await snap(page, 'studio-phone-menu')
  await nav.getByRole('link', { name: 'History' }).click()
  await expect(page).toHaveURL(/\/history/)
  await expect(nav).toBeHidden()
  await snap(page, 'history-phone')
  await checkA11y(page, 'history-phone')

  // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
  await page.goto('/')
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Studio')
  await page.keyboard.press('Tab')
  const skip = page.getByRole('link', { name: 'Skip to main content' })
  await expect(skip).toBeFocused()
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle)
  expect(outline).not.toBe('none')
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/#main$/)
  await snap(page, 'studio-phone')
})
