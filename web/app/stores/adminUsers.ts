import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { OperationResult } from '@urql/core'
import { AdminSetUserDisabledMutation, AdminSetUserRoleMutation, AdminUsersQuery } from '~/graphql/admin'
import type { AdminUsersQuery as UsersResult, Role } from '~/gql/graphql'
import { toUiErrors, type UiError } from '~/utils/errors'
import { adminClient, adminFetchFresh } from '~/stores/adminShared'
import { usePagedConnection } from '~/composables/usePagedConnection'

/** A user as the admin list shows it. */
export type AdminUser = UsersResult['users']['edges'][number]['node']

/** Users per page. */
export const ADMIN_USERS_PAGE = 25

/**
 * Operators' view of users: search by email or name, show one role only,
 * page through them, change roles, disable and enable people. Refusing to
 * demote the last admin comes back as LAST_ADMIN.
 */
export const useAdminUsersStore = defineStore('adminUsers', () => {
  const client = adminClient()
  const search = ref('')
  /** '' for everyone, or only people with this role. */
  const role = ref<Role | ''>('')
  // load(): the first page for the current search and role; load(true): the next page.
  const { items: users, totalCount, hasNextPage, loading, error, load } = usePagedConnection({
    pageSize: ADMIN_USERS_PAGE,
    fetch: (page) => adminFetchFresh(client, AdminUsersQuery, { search: search.value.trim() || null, role: role.value || null, ...page }),
    connection: (data) => data.users,
  })
  /** Changes (of role, or disabling) in flight, by user id. */
  const saving = ref<Record<string, boolean>>({})
  /** The last error of a change to a user (role or disabling), by user id. */
  const roleErrors = ref<Record<string, UiError[]>>({})

  /** Sends one change to a user, marking it in flight and clearing their last error. */
  async function change<T>(userId: string, send: () => Promise<OperationResult<T>>): Promise<OperationResult<T>> {
    saving.value = { ...saving.value, [userId]: true }
    const { [userId]: _old, ...rest } = roleErrors.value
    roleErrors.value = rest
    const res = await send()
    saving.value = { ...saving.value, [userId]: false }
    return res
  }

  /** Makes a user ADMIN or USER; answers whether it worked (the reason is in roleErrors). */
  async function setRole(userId: string, role: Role): Promise<boolean> {
    const res = await change(userId, () => client.mutation(AdminSetUserRoleMutation, { userId, role }).toPromise())
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

  /**
   * Disables a user (every key and sign-in of theirs stops working) or enables them again;
   * answers whether it worked (the reason, e.g. CONFLICT for oneself or the last admin, is in roleErrors).
   */
  async function setDisabled(userId: string, disabled: boolean): Promise<boolean> {
    const res = await change(userId, () => client.mutation(AdminSetUserDisabledMutation, { userId, disabled }).toPromise())
    const changed = res.data?.setUserDisabled
    if (!changed) {
      roleErrors.value = { ...roleErrors.value, [userId]: toUiErrors(res.error) }
      return false
    }
    users.value = users.value.map((u) => (u.id === changed.id ? { ...u, disabledAt: changed.disabledAt } : u))
    return true
  }

  return { search, role, users, totalCount, hasNextPage, loading, error, saving, roleErrors, load, setRole, setDisabled }
})
