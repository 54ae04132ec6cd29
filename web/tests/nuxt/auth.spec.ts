import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuthStore, SignInError } from '~/stores/auth'
import { createKoeClient } from '~/utils/graphqlClient'
import type { FirebaseAuthPort, FirebaseUserInfo } from '~/utils/firebaseAuth'

const meOf = (email: string, role = 'USER') => ({
  id: `u-${email}`, email, displayName: null, role,
  plan: { id: 'p', code: 'free', name: 'Free', includedCharacters: 20000, overagePricePer1000Cents: null, maxCharactersPerGeneration: 5000, maxConcurrentGenerations: 2, __typename: 'Plan' },
  usage: { periodEnd: '2026-12-01T00:00:00Z', includedCharacters: 20000, usedCharacters: 0, reservedCharacters: 0, creditCharacters: 0, overageCharacters: 0, remainingCharacters: 20000, __typename: 'Usage' },
  __typename: 'User',
})

/** A server that knows one API key and one Firebase token. */
function fakeServer() {
  const tokens: Record<string, ReturnType<typeof meOf>> = {
    'Bearer koe_good': meOf('key@example.test'),
    'Bearer koe_admin': meOf('admin@example.test', 'ADMIN'),
    'Bearer id-token-fb1': meOf('fb@example.test'),
  }
  return vi.fn(async (_: RequestInfo | URL, init?: RequestInit) => {
    const me = tokens[new Headers(init?.headers).get('Authorization') ?? '']
    const body = me ? { data: { me } } : { errors: [{ message: 'refused', extensions: { code: 'UNAUTHENTICATED' } }] }
    return new Response(JSON.stringify(body), { status: me ? 200 : 401, headers: { 'Content-Type': 'application/json' } })
  })
}

/** A Firebase stand-in with one account. */
function fakeFirebase(): FirebaseAuthPort & { user: FirebaseUserInfo | null } {
  const listeners: ((u: FirebaseUserInfo | null) => void)[] = []
  const port = {
    user: null as FirebaseUserInfo | null,
    onChange(cb: (u: FirebaseUserInfo | null) => void) { listeners.push(cb); cb(port.user); return () => {} },
    async idToken() { return port.user ? `id-token-${port.user.uid}` : null },
    async signIn(email: string, password: string) {
      if (email !== 'fb@example.test' || password !== 'secret1') throw Object.assign(new Error('bad'), { code: 'auth/invalid-credential' })
      port.user = { uid: 'fb1', email, displayName: null }
      listeners.forEach((l) => l(port.user))
    },
    async signUp() { throw Object.assign(new Error('exists'), { code: 'auth/email-already-in-use' }) },
    async signInWithGoogle() { throw Object.assign(new Error('closed'), { code: 'auth/popup-closed-by-user' }) },
    async signOut() { port.user = null; listeners.forEach((l) => l(null)) },
  }
  return port
}

const configFetch = (firebase: boolean) => (async () => new Response(JSON.stringify({
  firebase: firebase ? { apiKey: 'k', authDomain: 'd', projectId: 'demo-koe', emulatorHost: null } : null, billing: false, playground: null,
}))) as unknown as typeof fetch

function setup() {
  setActivePinia(createPinia())
  const auth = useAuthStore()
  const server = fakeServer()
  const restart = vi.fn()
  const koe = createKoeClient({ url: 'http://koe.test/query', wsUrl: 'ws://koe.test/query', getToken: () => auth.token(), onUnauthenticated: () => auth.expire(), fetch: server as typeof fetch })
  auth.attach(koe.client, restart)
  return { auth, server, restart }
}

describe('auth store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    localStorage.clear()
  })

  it('on a server without Firebase, signs in with an API key, keeps it for the session, and loads me', async () => {
    const { auth, restart } = setup()
    await auth.init({ fetcher: configFetch(false) })
    expect(auth.signedIn).toBe(false)
    expect(auth.config.firebase).toBeNull()
    await auth.signInWithApiKey('  koe_good ')
    expect(auth.mode).toBe('apiKey')
    expect(auth.me?.email).toBe('key@example.test')
    expect(await auth.token()).toBe('koe_good')
    expect(sessionStorage.getItem('koe.apiKey')).toBe('koe_good')
    expect(localStorage.getItem('koe.apiKey')).toBeNull()
    expect(restart).toHaveBeenCalled()
  })

  it('remembers a key in localStorage when asked, and restores it on the next visit', async () => {
    const first = setup()
    await first.auth.init({ fetcher: configFetch(false) })
    await first.auth.signInWithApiKey('koe_admin', true)
    expect(localStorage.getItem('koe.apiKey')).toBe('koe_admin')
    const next = setup()
    await next.auth.init({ fetcher: configFetch(false) })
    expect(next.auth.mode).toBe('apiKey')
    expect(next.auth.isAdmin).toBe(true)
  })

  it('refuses a bad key with UNAUTHENTICATED and keeps nothing', async () => {
    const { auth } = setup()
    await auth.init({ fetcher: configFetch(false) })
    const err = await auth.signInWithApiKey('koe_bad').catch((e) => e)
    expect(err).toBeInstanceOf(SignInError)
    expect((err as SignInError).uiError.code).toBe('UNAUTHENTICATED')
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem('koe.apiKey')).toBeNull()
  })

  it('signs in through Firebase with a fresh ID token per request, then signs out', async () => {
    const { auth, server } = setup()
    const fb = fakeFirebase()
    await auth.init({ fetcher: configFetch(true), firebasePort: fb })
    expect(auth.signedIn).toBe(false)
    await expect(auth.signInWithEmail('fb@example.test', 'wrong')).rejects.toMatchObject({ code: 'auth/invalid-credential' })
    await auth.signInWithEmail('fb@example.test', 'secret1')
    expect(auth.mode).toBe('firebase')
    expect(auth.me?.email).toBe('fb@example.test')
    const auths = server.mock.calls.map((c) => new Headers((c[1] as RequestInit).headers).get('Authorization'))
    expect(auths).toContain('Bearer id-token-fb1')
    await auth.signOut()
    expect(auth.signedIn).toBe(false)
    expect(auth.me).toBeNull()
    expect(fb.user).toBeNull()
  })

  it('loads Firebase at start only for a browser that kept a Firebase session; the sign-in form loads it on first use', async () => {
    const fresh = setup()
    const fb = fakeFirebase()
    const onChange = vi.spyOn(fb, 'onChange')
    await fresh.auth.init({ fetcher: configFetch(true), firebasePort: fb })
    expect(onChange).not.toHaveBeenCalled()
    expect(fresh.auth.signedIn).toBe(false)
    fresh.auth.prepareFirebase()
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1))
    fresh.auth.prepareFirebase()
    await fresh.auth.signInWithEmail('fb@example.test', 'secret1')
    expect(onChange).toHaveBeenCalledTimes(1) // loaded once
    expect(fresh.auth.me?.email).toBe('fb@example.test')

    // The next visit finds the session the SDK kept, and is signed in at once.
    localStorage.setItem('firebase:authUser:k:[DEFAULT]', '{"uid":"fb1"}')
    const back = setup()
    await back.auth.init({ fetcher: configFetch(true), firebasePort: fb })
    expect(back.auth.mode).toBe('firebase')
    expect(back.auth.me?.email).toBe('fb@example.test')
  })

  it('signs out locally when the server stops accepting the credential', async () => {
    const { auth } = setup()
    await auth.init({ fetcher: configFetch(false) })
    await auth.signInWithApiKey('koe_good')
    auth.expire()
    await vi.waitFor(() => expect(auth.signedIn).toBe(false))
    expect(sessionStorage.getItem('koe.apiKey')).toBeNull()
  })
})
