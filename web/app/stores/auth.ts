import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef } from 'vue'
import type { Client } from '@urql/core'
import { MeQuery } from '~/graphql/core'
import type { MeQuery as MeResult } from '~/gql/graphql'
import { fallbackAppConfig, loadAppConfig, type AppConfig } from '~/utils/appConfig'
import { createFirebaseAuth, type FirebaseAuthPort, type FirebaseUserInfo } from '~/utils/firebaseAuth'
import { toUiErrors, type UiError } from '~/utils/errors'

/** The signed-in principal's user, from the `me` query. */
export type Me = MeResult['me']

/** How the current visitor proves who they are. */
export type AuthMode = 'signedOut' | 'firebase' | 'apiKey'

const KEY_STORAGE = 'koe.apiKey'

/** Error thrown by sign-in actions, with the reason in UI terms. */
export class SignInError extends Error {
  constructor(public readonly uiError: UiError) {
    super(uiError.message)
  }
}

/**
 * Whether this browser kept a Firebase session: the SDK (with
 * browserLocalPersistence, see utils/firebaseAuth) stores its user under
 * `firebase:authUser:<api key>:<app>` in localStorage.
 */
function firebaseSessionKept(): boolean {
  if (typeof window === 'undefined') return false
  try {
    for (let i = 0; i < window.localStorage.length; i++) {
      if (window.localStorage.key(i)?.startsWith('firebase:authUser:')) return true
    }
  } catch {
    // Storage can be off (privacy settings): then nothing was kept either.
  }
  return false
}

/** Where the store keeps an API key: localStorage when remembered, else sessionStorage. */
function storages(): Storage[] {
  if (typeof window === 'undefined') return []
  return [window.sessionStorage, window.localStorage]
}

/**
 * The auth store: either a Firebase user (a fresh ID token per request via
 * getIdToken) or an API key (kept in session or local storage), and the `me`
 * query (role, plan, usage).
 */
export const useAuthStore = defineStore('auth', () => {
  const config = ref<AppConfig>(fallbackAppConfig)
  const mode = ref<AuthMode>('signedOut')
  const apiKey = ref<string | null>(null)
  const firebaseUser = ref<FirebaseUserInfo | null>(null)
  const me = ref<Me | null>(null)
  const meError = ref<UiError | null>(null)
  const firebase = shallowRef<FirebaseAuthPort | null>(null)
  const client = shallowRef<Client | null>(null)
  let restartSocket: () => void = () => {}
  let initPromise: Promise<void> | null = null
  /** Stands in for the Firebase SDK (tests). */
  let firebasePort: FirebaseAuthPort | undefined

  const signedIn = computed(() => mode.value !== 'signedOut')
  const isAdmin = computed(() => me.value?.role === 'ADMIN')
  const label = computed(() => me.value?.email ?? me.value?.displayName ?? firebaseUser.value?.email ?? (mode.value === 'apiKey' ? 'API key' : ''))

  /** Connects the store to the GraphQL client (done by the urql plugin). */
  function attach(c: Client, restart: () => void) {
    client.value = markRaw(c)
    restartSocket = restart
  }

  /** The bearer credential for the next request, or null when signed out; `forceRefresh` gets a new ID token. */
  async function token(forceRefresh = false): Promise<string | null> {
    if (mode.value === 'apiKey') return apiKey.value
    if (mode.value === 'firebase' && firebase.value) return firebase.value.idToken(forceRefresh)
    return null
  }

  /**
   * Loads the server's configuration, restores a stored API key, and, when
   * a Firebase session was kept in this browser, waits for Firebase to
   * report its user. Safe to call many times. `firebasePort` replaces the
   * Firebase SDK (tests).
   */
  function init(opts: { fetcher?: typeof fetch; firebasePort?: FirebaseAuthPort } = {}): Promise<void> {
    firebasePort ??= opts.firebasePort
    initPromise ??= (async () => {
      config.value = await loadAppConfig(opts.fetcher)
      for (const s of storages()) {
        const k = s.getItem(KEY_STORAGE)
        if (k) {
          apiKey.value = k
          mode.value = 'apiKey'
          break
        }
      }
      // Visitors with no Firebase session never wait for (or download) the
      // SDK here; the sign-in form loads it when someone starts to use it.
      if (mode.value === 'signedOut' && config.value.firebase && firebaseSessionKept()) {
        await startFirebase()
      }
      if (signedIn.value) await loadMe()
    })()
    return initPromise
  }

  let starting: Promise<FirebaseAuthPort> | null = null
  /** Loads the Firebase SDK (once) and resolves after its first report of the user. */
  function startFirebase(): Promise<FirebaseAuthPort> {
    starting ??= connectFirebase().catch((e) => {
      starting = null // a failed download may be tried again
      throw e
    })
    return starting
  }

  /**
   * Starts loading Firebase ahead of a sign-in: the sign-in form calls it as
   * soon as someone focuses or touches it, so the Google popup can open
   * within their click instead of after a download.
   */
  function prepareFirebase() {
    if (config.value.firebase || firebasePort) startFirebase().catch(() => {})
  }

  async function connectFirebase(): Promise<FirebaseAuthPort> {
    if (!config.value.firebase && !firebasePort) throw new SignInError({ code: 'FIREBASE_NOT_CONFIGURED', message: 'Firebase sign-in is not configured on this server' })
    const fb = firebasePort ?? (await createFirebaseAuth(config.value.firebase!))
    firebase.value = markRaw(fb)
    await new Promise<void>((resolve) => {
      let first = true
      fb.onChange((user) => {
        const changed = user?.uid !== firebaseUser.value?.uid
        firebaseUser.value = user
        if (mode.value !== 'apiKey') mode.value = user ? 'firebase' : 'signedOut'
        if (first) {
          first = false
          resolve()
        } else if (changed && mode.value !== 'apiKey') {
          me.value = null
          restartSocket()
          if (user) void loadMe()
        }
      })
    })
    return fb
  }

  /** Fetches `me` again (role, plan, usage); keeps the error in meError. */
  async function loadMe(): Promise<Me | null> {
    if (!client.value || !signedIn.value) return null
    const res = await client.value.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise()
    if (res.data?.me) {
      me.value = res.data.me
      meError.value = null
    } else {
      meError.value = toUiErrors(res.error)[0] ?? null
    }
    return me.value
  }

  async function firebaseAction(run: (fb: FirebaseAuthPort) => Promise<void>) {
    const fb = await startFirebase()
    forgetKey()
    await run(fb)
    mode.value = 'firebase'
    me.value = null
    restartSocket()
    await loadMe()
  }

  /** Signs in with email and password through Firebase. */
  const signInWithEmail = (email: string, password: string) => firebaseAction((fb) => fb.signIn(email, password))
  /** Creates a Firebase account and signs in. */
  const signUpWithEmail = (email: string, password: string) => firebaseAction((fb) => fb.signUp(email, password))
  /** Signs in with Google through a Firebase popup. */
  const signInWithGoogle = () => firebaseAction((fb) => fb.signInWithGoogle())

  /**
   * Signs in with an API key: checks it with `me`, then keeps it in
   * sessionStorage (or localStorage when `remember`). A refused key throws SignInError.
   */
  async function signInWithApiKey(key: string, remember = false) {
    const trimmed = key.trim()
    if (!trimmed) throw new SignInError({ code: 'BAD_USER_INPUT', field: 'apiKey', message: 'Enter an API key' })
    if (firebaseUser.value && firebase.value) await firebase.value.signOut()
    apiKey.value = trimmed
    mode.value = 'apiKey'
    me.value = null
    restartSocket()
    await loadMe()
    if (!me.value) {
      const err = meError.value ?? { code: 'UNAUTHENTICATED', message: 'The key was refused' }
      forgetKey()
      mode.value = 'signedOut'
      throw new SignInError(err)
    }
    for (const s of storages()) s.removeItem(KEY_STORAGE)
    const store = storages()[remember ? 1 : 0]
    store?.setItem(KEY_STORAGE, trimmed)
  }

  function forgetKey() {
    apiKey.value = null
    for (const s of storages()) s.removeItem(KEY_STORAGE)
  }

  /** Signs out of whichever way the visitor signed in. */
  async function signOut() {
    forgetKey()
    if (firebase.value && firebaseUser.value) await firebase.value.signOut()
    firebaseUser.value = null
    mode.value = 'signedOut'
    me.value = null
    restartSocket()
  }

  /** The server refused the credential (revoked key, disabled user): sign out locally. */
  function expire() {
    if (!signedIn.value) return
    void signOut()
  }

  return {
    config, mode, apiKey, firebaseUser, me, meError, signedIn, isAdmin, label,
    attach, token, init, loadMe, prepareFirebase, signInWithEmail, signUpWithEmail, signInWithGoogle, signInWithApiKey, signOut, expire,
  }
})
