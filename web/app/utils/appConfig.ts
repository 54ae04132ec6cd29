// The server tells the static build how to sign in, at GET /app-config.json,
// so one build works against any server.

/** Firebase web settings; emulatorHost is set in development and tests. */
export interface FirebaseSettings {
  apiKey: string
  authDomain: string
  projectId: string
  emulatorHost: string | null
}

/** What GET /app-config.json answers. */
export interface AppConfig {
  firebase: FirebaseSettings | null
  billing: boolean
  playground: string | null
}

/** The configuration assumed when the server does not answer one. */
export const fallbackAppConfig: AppConfig = { firebase: null, billing: false, playground: null }

/** Reads and checks the server's configuration; anything unexpected becomes the fallback. */
export function parseAppConfig(raw: unknown): AppConfig {
  if (!raw || typeof raw !== 'object') return fallbackAppConfig
  const r = raw as Record<string, unknown>
  let firebase: FirebaseSettings | null = null
  const f = r.firebase as Record<string, unknown> | null | undefined
  if (f && typeof f === 'object' && typeof f.apiKey === 'string' && typeof f.projectId === 'string') {
    firebase = {
      apiKey: f.apiKey,
      authDomain: typeof f.authDomain === 'string' ? f.authDomain : `${f.projectId}.firebaseapp.com`,
      projectId: f.projectId,
      emulatorHost: typeof f.emulatorHost === 'string' && f.emulatorHost ? f.emulatorHost : null,
    }
  }
  return {
    firebase,
    billing: r.billing === true,
    playground: typeof r.playground === 'string' ? r.playground : null,
  }
}

/** Fetches /app-config.json from the page's origin. */
export async function loadAppConfig(fetcher: typeof fetch = fetch): Promise<AppConfig> {
  try {
    const res = await fetcher('/app-config.json', { headers: { Accept: 'application/json' } })
    if (!res.ok) return fallbackAppConfig
    return parseAppConfig(await res.json())
  } catch {
    return fallbackAppConfig
  }
}
