import { defineVitestConfig } from '@nuxt/test-utils/config'

// Unit tests of stores, utils and components, in a Nuxt environment
// (auto-imports, i18n and Pinia work as in the app). Files: tests/nuxt/**/*.spec.ts.
export default defineVitestConfig({
  test: {
    environment: 'nuxt',
    include: ['tests/nuxt/**/*.spec.ts'],
    environmentOptions: { nuxt: { domEnvironment: 'happy-dom' } },
    // Booting the Nuxt environment takes seconds on a busy 2-core machine.
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
})
