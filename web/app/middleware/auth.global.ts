import { useAuthStore } from '~/stores/auth'

// Every page needs sign-in unless it sets definePageMeta({ public: true });
// pages with definePageMeta({ role: 'ADMIN' }) are for operators only.
// Signed-out visitors go to /signin?next=<where they were going>.
export default defineNuxtRouteMiddleware(async (to) => {
  const auth = useAuthStore()
  await auth.init()
  if (to.meta.public) return
  if (!auth.signedIn) {
    return navigateTo({ path: '/signin', query: to.fullPath === '/' ? {} : { next: to.fullPath } })
  }
  if (to.meta.role === 'ADMIN') {
    if (!auth.me) await auth.loadMe()
    if (!auth.isAdmin) return navigateTo({ path: '/forbidden', query: { from: to.fullPath } }, { replace: true })
  }
})
