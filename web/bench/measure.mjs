// Measures the web app's numbers for BENCHMARKS.md against a running stack
// (scripts/web-test.sh with KOE_WEB_BENCH=1 starts one and runs this):
//   1. the JavaScript the first page loads, gzipped (sign-in page, signed out; and the studio, signed in)
//   2. time to interactive of the studio in headless Chromium (navigation start -> voice chosen and
//      Generate enabled), cold cache with an API key, and warm cache with a Firebase user
//   3. time from clicking Generate to the first progress update (the first generationUpdated event
//      the page renders), to the first progress above 0, and to SUCCEEDED, for ~500 characters of MP3
// Env: KOE_E2E_URL, KOE_E2E_ADMIN_KEY, FIREBASE_AUTH_EMULATOR_HOST; KOE_BENCH_RUNS (default 5).
// Prints a table and writes bench/results/latest.json.
import { chromium } from '@playwright/test'
import { gzipSync } from 'node:zlib'
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const base = process.env.KOE_E2E_URL ?? 'http://127.0.0.1:8080'
const adminKey = process.env.KOE_E2E_ADMIN_KEY
const emulator = process.env.FIREBASE_AUTH_EMULATOR_HOST
const runs = Number(process.env.KOE_BENCH_RUNS ?? 5)
if (!adminKey || !emulator) throw new Error('set KOE_E2E_URL, KOE_E2E_ADMIN_KEY and FIREBASE_AUTH_EMULATOR_HOST')
// The build measured: the one the server serves (scripts/web-test.sh sets it), else this folder's.
const publicDir = process.env.KOE_WEB_DIR ? `${process.env.KOE_WEB_DIR}/` : new URL('../.output/public/', import.meta.url).pathname

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const browser = await chromium.launch({ executablePath: process.env.KOE_CHROMIUM ?? '/usr/bin/chromium', args })

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const round = (x) => Math.round(x)

async function gql(token, query, variables) {
  const res = await fetch(`${base}/query`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })
  return res.json()
}

async function newFirebaseUser() {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`
  const password = 'bench-password'
  const r = await fetch(`http://${emulator}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password, returnSecureToken: true }) })
  const { idToken } = await r.json()
  const me = await gql(idToken, '{ me { id } }')
  if (!me.data) throw new Error(JSON.stringify(me))
  const key = await gql(idToken, 'mutation { createApiKey(name: "bench") { secret } }')
  return { email, password, idToken, apiKey: key.data.createApiKey.secret }
}

/** JS files a page loads, with their gzipped sizes (from the build on disk). */
async function scriptsOf(page, go) {
  const urls = new Set()
  page.on('response', (r) => { if (r.request().resourceType() === 'script' && r.url().startsWith(base)) urls.add(new URL(r.url()).pathname) })
  await go()
  await page.waitForLoadState('networkidle')
  let raw = 0, gz = 0
  for (const p of urls) {
    const file = join(publicDir, p)
    if (!existsSync(file)) continue
    const buf = readFileSync(file)
    raw += buf.length
    gz += gzipSync(buf, { level: 9 }).length
  }
  return { files: urls.size, raw, gzip: gz }
}

const studioReady = () => {
  const b = document.querySelector('[data-testid=generate]')
  return !!b && !b.disabled && !!document.querySelector('input[name=voice]:checked')
}

const user = await newFirebaseUser()
const out = { date: new Date().toISOString(), server: base, runs }

// 1. Bundle sizes
{
  const ctx = await browser.newContext()
  const page = await ctx.newPage()
  out.signinJs = await scriptsOf(page, () => page.goto(`${base}/signin`))
  await ctx.close()
  const ctx2 = await browser.newContext()
  await ctx2.addInitScript((k) => sessionStorage.setItem('koe.apiKey', k), user.apiKey)
  const p2 = await ctx2.newPage()
  const queries = []
  p2.on('request', (r) => { if (r.url() === `${base}/query` && r.method() === 'POST') queries.push(JSON.parse(r.postData() ?? '{}').query?.match(/^\s*(query|mutation)\s+(\w+)/)?.[2] ?? '?') })
  out.studioJs = await scriptsOf(p2, async () => { await p2.goto(`${base}/`); await p2.waitForFunction(studioReady) })
  out.studioRequests = queries
  await ctx2.close()
}

// 2. Time to interactive. A fresh user for each run: a free plan allows 60
// requests a minute, and each load of the studio makes a few.
{
  const cold = []
  for (let i = 0; i < runs; i++) {
    const u = await newFirebaseUser()
    const ctx = await browser.newContext()
    await ctx.addInitScript((k) => sessionStorage.setItem('koe.apiKey', k), u.apiKey)
    const page = await ctx.newPage()
    await page.goto(`${base}/`)
    await page.waitForFunction(studioReady, null, { polling: 'raf' })
    cold.push(await page.evaluate(() => performance.now()))
    await ctx.close()
  }
  const warm = []
  for (let i = 0; i < runs; i++) {
    const u = await newFirebaseUser()
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.goto(`${base}/signin`)
    await page.getByTestId('email').fill(u.email)
    await page.getByTestId('password').fill(u.password)
    await page.getByTestId('submit').click()
    await page.waitForFunction(studioReady)
    await page.goto(`${base}/`)
    await page.waitForFunction(studioReady, null, { polling: 'raf' })
    warm.push(await page.evaluate(() => performance.now()))
    await ctx.close()
  }
  out.ttiColdApiKeyMs = { median: round(median(cold)), all: cold.map(round) }
  out.ttiWarmFirebaseMs = { median: round(median(warm)), all: warm.map(round) }
}

// 3. Generate -> first progress update
{
  const first = [], moving = [], done = []
  const ctx = await browser.newContext()
  await ctx.addInitScript((k) => sessionStorage.setItem('koe.apiKey', k), user.apiKey)
  const page = await ctx.newPage()
  await page.goto(`${base}/`)
  await page.waitForFunction(studioReady)
  const text = 'Koe turns written words into natural speech, one sentence at a time, while you watch it happen. '.repeat(6).slice(0, 500)
  await page.getByTestId('text').fill(text)
  await page.getByTestId('format').selectOption('MP3')
  for (let i = 0; i < runs; i++) {
    await page.evaluate(() => performance.clearMarks())
    await page.getByTestId('generate').click()
    await page.waitForFunction(() => performance.getEntriesByName('koe:generation-event').some((m) => m.detail?.status === 'SUCCEEDED') || performance.getEntriesByName('koe:generation-poll').length > 0, null, { timeout: 60_000 }).catch(async (e) => {
      const state = await page.evaluate(() => ({
        marks: performance.getEntriesByType('mark').map((m) => [m.name, m.detail]),
        errors: [...document.querySelectorAll('[data-error-code]')].map((el) => el.textContent),
        progress: document.querySelector('[data-testid=progress]')?.textContent,
      }))
      throw new Error(`run ${i + 1}: no SUCCEEDED within 60 s: ${JSON.stringify(state)}`, { cause: e })
    })
    const polled = await page.evaluate(() => performance.getEntriesByName('koe:generation-poll').length > 0)
    if (polled) {
      console.error(`run ${i + 1}: the subscription missed the end; the poll found it`)
      out.missedBySubscription = (out.missedBySubscription ?? 0) + 1
      await page.waitForFunction(() => !document.querySelector('[data-testid=generate]').disabled)
      continue
    }
    const r = await page.evaluate(() => {
      const t0 = performance.getEntriesByName('koe:generate')[0].startTime
      const ev = performance.getEntriesByName('koe:generation-event')
      return {
        first: ev[0].startTime - t0,
        moving: (ev.find((m) => m.detail.progress > 0) ?? ev[ev.length - 1]).startTime - t0,
        done: ev.find((m) => m.detail.status === 'SUCCEEDED').startTime - t0,
      }
    })
    first.push(r.first); moving.push(r.moving); done.push(r.done)
    await page.waitForFunction(() => !document.querySelector('[data-testid=generate]').disabled)
  }
  await ctx.close()
  out.generateToFirstUpdateMs = { median: round(median(first)), all: first.map(round) }
  out.generateToFirstProgressMs = { median: round(median(moving)), all: moving.map(round) }
  out.generateToSucceededMs = { median: round(median(done)), all: done.map(round) }
}
await browser.close()

const kb = (b) => `${(b / 1024).toFixed(1)} KiB`
console.log(`first page (sign-in) JS: ${out.signinJs.files} files, ${kb(out.signinJs.gzip)} gzipped (${kb(out.signinJs.raw)} raw)`)
console.log(`studio (signed in) JS:   ${out.studioJs.files} files, ${kb(out.studioJs.gzip)} gzipped (${kb(out.studioJs.raw)} raw)`)
console.log(`studio load: ${out.studioRequests.length} GraphQL requests (${out.studioRequests.join(', ')})`)
console.log(`studio time to interactive, cold cache, API key:      median ${out.ttiColdApiKeyMs.median} ms  (${out.ttiColdApiKeyMs.all.join(', ')})`)
console.log(`studio time to interactive, warm cache, Firebase user: median ${out.ttiWarmFirebaseMs.median} ms  (${out.ttiWarmFirebaseMs.all.join(', ')})`)
console.log(`Generate -> first progress update (500 chars, MP3):   median ${out.generateToFirstUpdateMs.median} ms  (${out.generateToFirstUpdateMs.all.join(', ')})`)
console.log(`Generate -> first progress above 0:                   median ${out.generateToFirstProgressMs.median} ms  (${out.generateToFirstProgressMs.all.join(', ')})`)
console.log(`Generate -> SUCCEEDED on screen:                      median ${out.generateToSucceededMs.median} ms  (${out.generateToSucceededMs.all.join(', ')})`)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(out, null, 2))
