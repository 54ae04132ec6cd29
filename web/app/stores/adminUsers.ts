import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AdminSetUserRoleMutation, AdminUsersQuery } from '~/graphql/admin'
import type { AdminUsersQuery as UsersResult, Role } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh } from '~/stores/adminShared'

/** A user as the admin list shows it. */
export type AdminUser = UsersResult['users']['edges'][number]['node']

/** Users per page. */
export const ADMIN_USERS_PAGE = 25

/**
 * Operators' view of users: search by email or name, page through them,
 * change roles. Refusing to demote the last admin comes back as LAST_ADMIN.
 */
export const useAdminUsersStore = defineStore('adminUsers', () => {
  const client = adminClient()
  const search = ref('')
  const users = ref<AdminUser[]>([])
  const totalCount = ref(0)
  const endCursor = ref<string | null>(null)
  const hasNextPage = ref(false)
  const loading = ref(false)
  const error = shallowRef<UiError | null>(null)
  /** Role changes in flight, by user id. */
  const saving = ref<Record<string, boolean>>({})
  /** The last role-change error, by user id. */
  const roleErrors = ref<Record<string, UiError[]>>({})
  let generation = 0

  /** Loads the first page for the current search (more=false) or the next page. */
  async function load(more = false) {
    const mine = ++generation
    loading.value = true
    const res = await adminFetchFresh(client, AdminUsersQuery, {
      search: search.value.trim() || null,
      first: ADMIN_USERS_PAGE,
      after: more ? endCursor.value : null,
    })
    if (mine !== generation) return
    loading.value = false
    if (!res.data) {
      error.value = toUiErrors(res.error)[0] ?? null
      return
    }
    error.value = null
    const page = res.data.users
    const nodes = page.edges.map((e) => e.node)
    users.value = more ? [...users.value, ...nodes] : nodes
    totalCount.value = page.totalCount
    endCursor.value = page.pageInfo.endCursor
    hasNextPage.value = page.pageInfo.hasNextPage
  }

  /** Makes a user ADMIN or USER; answers whether it worked (the reason is in roleErrors). */
  async function setRole(userId: string, role: Role): Promise<boolean> {
    saving.value = { ...saving.value, [userId]: true }
    const { [userId]: _old, ...rest } = roleErrors.value
    roleErrors.value = rest
    const res = await client.mutation(AdminSetUserRoleMutation, { userId, role }).toPromise()
    saving.value = { ...saving.value, [userId]: false }
    const changed = res.data?.setUserRole
    if (!changed) {
      const errs = toUiErrors(res.error).map((e) =>
        e.code === 'CONFLICT' && role === 'USER' ? { ...e, code: 'LAST_ADMIN' } : e,
      )
      roleErrors.value = { ...roleErrors.value, [userId]: errs }
      return false
    }
    users.value = users.value.map((u) => (u.id === changed.id ? { ...u, role: changed.role } : u))
    return true
  }

  return { search, users, totalCount, hasNextPage, loading, error, saving, roleErrors, load, setRole }
})
