// Shared fixtures for every end-to-end spec. Import { test, expect } from
// './fixtures' instead of '@playwright/test'.
//
//   env        server URL, admin API key, Firebase emulator host
//   adminGql   run GraphQL as the built-in administrator (admin API key)
//   gqlAs      run GraphQL with any bearer credential
//   newUser    a fresh Firebase user (made through the Auth emulator) who has been seen by Koe
//   userPage   a page signed in through the sign-in form as a fresh USER (newUser)
//   adminPage  a page signed in with the admin API key
//   signInAs   sign a page in through the email form as a TestUser
//   snap       screenshot into test-results/screenshots/<name>.png
//   checkA11y  axe-core scan: fails on serious or critical violations
import { test as base, expect, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { mkdirSync } from 'node:fs'
import { randomUUID } from 'node:crypto'

export { expect }

/** Where the stack under test is. */
export interface E2EEnv {
  serverUrl: string
  adminKey: string
  emulatorHost: string | null
}

/** A GraphQL answer. */
export interface GqlResult<T = Record<string, unknown>> {
  data?: T
  errors?: { message: string; extensions?: Record<string, unknown> }[]
}

export type Gql = <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => Promise<GqlResult<T>>

/** A Firebase user made for one test. */
export interface TestUser {
  email: string
  password: string
  /** Firebase ID token (valid an hour). */
  idToken: string
  /** Koe's id of the user. */
  id: string
  /** GraphQL as this user. */
  gql: Gql
}

export const screenshotsDir = 'test-results/screenshots'

/** POSTs a GraphQL request with a bearer credential. */
export async function gqlRequest<T>(serverUrl: string, token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
  const res = await fetch(`${serverUrl}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  return (await res.json()) as GqlResult<T>
}

/** Makes a Firebase account in the Auth emulator and returns its ID token. */
export async function emulatorSignUp(emulatorHost: string, email: string, password: string): Promise<string> {
  const res = await fetch(`http://${emulatorHost}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  })
  const body = (await res.json()) as { idToken?: string; error?: unknown }
  if (!body.idToken) throw new Error(`emulator signUp failed: ${JSON.stringify(body)}`)
  return body.idToken
}

/** A unique email for a test user. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`
}

/** Signs in through the sign-in page's email form; waits until the app leaves /signin. */
export async function signInWithEmail(page: Page, email: string, password: string, path = '/signin') {
  await page.goto(path)
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'))
}

/** Signs in through the sign-in page with an API key. */
export async function signInWithApiKey(page: Page, key: string) {
  await page.goto('/signin')
  const keyField = page.getByTestId('api-key')
  if (!(await keyField.isVisible())) await page.getByTestId('use-api-key').click()
  await keyField.fill(key)
  await page.getByTestId('submit-key').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'))
}

type Fixtures = {
  adminGql: Gql
  gqlAs: (token: string) => Gql
  newUser: TestUser
  userPage: Page
  adminPage: Page
  signInAs: (page: Page, user: TestUser) => Promise<void>
  snap: (page: Page, name: string) => Promise<void>
  checkA11y: (page: Page, name?: string) => Promise<void>
}

export const test = base.extend<Fixtures, { env: E2EEnv }>({
  env: [
    async ({}, use) => {
      const serverUrl = process.env.KOE_E2E_URL ?? 'http://127.0.0.1:8080'
      const adminKey = process.env.KOE_E2E_ADMIN_KEY ?? ''
      if (!adminKey) throw new Error('KOE_E2E_ADMIN_KEY is not set (scripts/web-test.sh sets it)')
      await use({ serverUrl, adminKey, emulatorHost: process.env.FIREBASE_AUTH_EMULATOR_HOST ?? null })
    },
    { scope: 'worker' },
  ],
  adminGql: async ({ env }, use) => {
    await use((q, v) => gqlRequest(env.serverUrl, env.adminKey, q, v))
  },
  gqlAs: async ({ env }, use) => {
    await use((token) => (q, v) => gqlRequest(env.serverUrl, token, q, v))
  },
  newUser: async ({ env }, use) => {
    if (!env.emulatorHost) throw new Error('FIREBASE_AUTH_EMULATOR_HOST is not set')
    const email = uniqueEmail()
    const password = `pw-${randomUUID()}`
    const idToken = await emulatorSignUp(env.emulatorHost, email, password)
    const gql: Gql = (q, v) => gqlRequest(env.serverUrl, idToken, q, v)
    const me = await gql<{ me: { id: string } }>('{ me { id } }')
    if (!me.data?.me) throw new Error(`me failed for ${email}: ${JSON.stringify(me.errors)}`)
    await use({ email, password, idToken, id: me.data.me.id, gql })
  },
  userPage: async ({ page, newUser }, use) => {
    await signInWithEmail(page, newUser.email, newUser.password)
    await use(page)
  },
  signInAs: async ({}, use) => {
    await use((page, user) => signInWithEmail(page, user.email, user.password))
  },
  adminPage: async ({ page, env }, use) => {
    await page.addInitScript((key) => { window.sessionStorage.setItem('koe.apiKey', key) }, env.adminKey)
    await page.goto('/')
    await use(page)
  },
  snap: async ({}, use, testInfo) => {
    mkdirSync(screenshotsDir, { recursive: true })
    await use(async (page, name) => {
      const file = `${screenshotsDir}/${name}.png`
      await page.screenshot({ path: file, fullPage: true })
      await testInfo.attach(name, { path: file, contentType: 'image/png' })
    })
  },
  checkA11y: async ({}, use, testInfo) => {
    await use(async (page, name = 'page') => {
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      if (bad.length) {
        await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(bad, null, 2), contentType: 'application/json' })
      }
      expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`), `axe on ${name}`).toEqual([])
    })
  },
})
