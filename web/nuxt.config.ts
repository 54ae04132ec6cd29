import tailwindcss from '@tailwindcss/vite'

// Where `npm run dev` sends API traffic: a running Koe server.
const server = process.env.KOE_SERVER_URL ?? 'http://localhost:8080'
const proxied = ['/query', '/app-config.json', '/audio', '/voices', '/unsubscribe', '/playground', '/v1']

export default defineNuxtConfig({
  compatibilityDate: '2026-11-01',
  ssr: false,
  devtools: { enabled: false },
  telemetry: false,
  modules: ['@pinia/nuxt', '@nuxtjs/i18n'],
  css: ['~/assets/css/main.css'],
  // cssnano 8 needs Node 22 (Set.prototype.difference); Vite minifies CSS anyway.
  postcss: { plugins: { cssnano: false } },
  app: {
    head: {
      htmlAttrs: { lang: 'en' },
      title: 'Koe',
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'description', content: 'Koe: text to speech' },
      ],
      link: [{ rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' }],
    },
  },
  vite: {
    plugins: [tailwindcss()],
    server: {
      proxy: Object.fromEntries(proxied.map((p) => [p, { target: server, changeOrigin: true, ws: p === '/query' }])),
    },
  },
  nitro: {
    // Only the shell: the Go server answers every app route with 200.html, so
    // no per-route copies (whose folders would add trailing-slash redirects).
    prerender: { crawlLinks: false, routes: ['/'] },
    devProxy: Object.fromEntries(proxied.map((p) => [p, { target: server + p, changeOrigin: true, ws: p === '/query' }])),
  },
  i18n: {
    strategy: 'no_prefix',
    defaultLocale: 'en',
    // One file per area and language, so each area's pages own their strings:
    // core (layout, sign-in, studio, history), account (usage, billing,
    // notifications, API keys), admin, pronunciation (the lexicon page).
    locales: [
      { code: 'en', language: 'en-US', name: 'English', files: ['en/core.json', 'en/account.json', 'en/admin.json', 'en/pronunciation.json'] },
      { code: 'ja', language: 'ja-JP', name: '日本語', files: ['ja/core.json', 'ja/account.json', 'ja/admin.json', 'ja/pronunciation.json'] },
    ],
    detectBrowserLanguage: { useCookie: true, cookieKey: 'koe_locale', redirectOn: 'root', fallbackLocale: 'en' },
  },
  typescript: { strict: true, typeCheck: false },
})
