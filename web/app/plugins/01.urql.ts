import urql from '@urql/vue'
import { useAuthStore } from '~/stores/auth'
import { createKoeClient, wsUrlFor } from '~/utils/graphqlClient'

// One urql client for the whole app, authenticated by the auth store. Pages
// use useQuery/useMutation/useSubscription from @urql/vue.
export default defineNuxtPlugin({
  name: 'koe-urql',
  dependsOn: ['pinia'],
  setup(nuxtApp) {
    const auth = useAuthStore(nuxtApp.$pinia as never)
    const koe = createKoeClient({
      url: `${window.location.origin}/query`,
      wsUrl: wsUrlFor(window.location),
      getToken: (opts) => auth.token(opts?.forceRefresh),
      getLocale: () => String((nuxtApp.$i18n as { locale: { value: string } } | undefined)?.locale.value ?? ''),
      onUnauthenticated: () => auth.expire(),
    })
    auth.attach(koe.client, koe.restartSocket)
    nuxtApp.vueApp.use(urql, koe.client)
    return { provide: { urql: koe.client } }
  },
})
