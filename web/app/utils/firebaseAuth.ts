import type { FirebaseSettings } from '~/utils/appConfig'

/** The signed-in Firebase user, as the app keeps it. */
export interface FirebaseUserInfo {
  uid: string
  email: string | null
  displayName: string | null
}

/**
 * What the auth store needs from Firebase. The real one loads the SDK on
 * demand (so signed-out and API-key visitors never download it); tests pass a
 * fake.
 */
export interface FirebaseAuthPort {
  /** Calls back with the current user at once, then on every change; returns an unsubscribe. */
  onChange(cb: (user: FirebaseUserInfo | null) => void): () => void
  /** A fresh ID token of the current user (the SDK refreshes it when near expiry). */
  idToken(forceRefresh?: boolean): Promise<string | null>
  signIn(email: string, password: string): Promise<void>
  signUp(email: string, password: string): Promise<void>
  signInWithGoogle(): Promise<void>
  signOut(): Promise<void>
}

/** Loads the Firebase SDK and connects it to the project (and the emulator, when given). */
export async function createFirebaseAuth(settings: FirebaseSettings): Promise<FirebaseAuthPort> {
  const [{ initializeApp, getApps }, authMod] = await Promise.all([import('firebase/app'), import('firebase/auth')])
  const {
    getAuth, connectAuthEmulator, onAuthStateChanged, signInWithEmailAndPassword,
    createUserWithEmailAndPassword, signInWithPopup, GoogleAuthProvider, signOut,
    setPersistence, browserLocalPersistence,
  } = authMod
  const app = getApps()[0] ?? initializeApp({ apiKey: settings.apiKey, authDomain: settings.authDomain, projectId: settings.projectId })
  const auth = getAuth(app)
  if (settings.emulatorHost && !(auth as unknown as { emulatorConfig?: unknown }).emulatorConfig) {
    connectAuthEmulator(auth, `http://${settings.emulatorHost}`, { disableWarnings: true })
  }
  await setPersistence(auth, browserLocalPersistence)
  const info = (u: { uid: string; email: string | null; displayName: string | null } | null): FirebaseUserInfo | null =>
    u ? { uid: u.uid, email: u.email, displayName: u.displayName } : null
  return {
    onChange: (cb) => onAuthStateChanged(auth, (u) => cb(info(u))),
    idToken: async (force) => (auth.currentUser ? auth.currentUser.getIdToken(force) : null),
    signIn: async (email, password) => { await signInWithEmailAndPassword(auth, email, password) },
    signUp: async (email, password) => { await createUserWithEmailAndPassword(auth, email, password) },
    signInWithGoogle: async () => { await signInWithPopup(auth, new GoogleAuthProvider()) },
    signOut: () => signOut(auth),
  }
}

/** The code of a Firebase error (`auth/wrong-password` ...), or undefined. */
export function firebaseErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
