// Operations of the admin area (ADMIN only): users and roles, plans, voices,
// broadcasts, KPIs. Run `npm run codegen` after changing any of them.
import { graphql } from '~/gql'

export const AdminUsersQuery = graphql(`
  query AdminUsers($search: String, $role: Role, $first: Int, $after: String) {
    users(search: $search, role: $role, first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          id
          email
          displayName
          role
          createdAt
          disabledAt
          plan {
            id
            code
            name
          }
        }
      }
    }
  }
`)

export const AdminSetUserRoleMutation = graphql(`
  mutation AdminSetUserRole($userId: ID!, $role: Role!) {
    setUserRole(userId: $userId, role: $role) {
      id
      role
    }
  }
`)

export const AdminSetUserDisabledMutation = graphql(`
  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      disabledAt
    }
  }
`)

export const AdminPlanFields = graphql(`
  fragment AdminPlanFields on Plan {
    ...AccountPlanFields
    maxWebsockets
    maxSubscriptions
    stripePriceId
  }
`)

export const AdminPlansQuery = graphql(`
  query AdminPlans {
    plans {
      ...AdminPlanFields
    }
  }
`)

export const AdminUpsertPlanMutation = graphql(`
  mutation AdminUpsertPlan($input: PlanInput!) {
    upsertPlan(input: $input) {
      ...AdminPlanFields
    }
  }
`)

export const AdminVoicesQuery = graphql(`
  query AdminVoices($filter: VoiceFilter, $first: Int, $after: String) {
    voices(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...VoiceFields
        }
      }
    }
  }
`)

export const AdminSetVoiceEnabledMutation = graphql(`
  mutation AdminSetVoiceEnabled($id: ID!, $enabled: Boolean!) {
    setVoiceEnabled(id: $id, enabled: $enabled) {
      id
      enabled
    }
  }
`)

export const AdminBroadcastFields = graphql(`
  fragment AdminBroadcastFields on Broadcast {
    id
    subject
    status
    sendAt
    optimizeSendTime
    recipients
    sent
    failed
    canceled
    createdAt
  }
`)

export const AdminBroadcastsQuery = graphql(`
  query AdminBroadcasts($first: Int, $after: String) {
    broadcasts(first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...AdminBroadcastFields
        }
      }
    }
  }
`)

export const AdminCreateBroadcastMutation = graphql(`
  mutation AdminCreateBroadcast($input: BroadcastInput!) {
    createBroadcast(input: $input) {
      ...AdminBroadcastFields
    }
  }
`)

export const AdminCancelBroadcastMutation = graphql(`
  mutation AdminCancelBroadcast($id: ID!) {
    cancelBroadcast(id: $id) {
      ...AdminBroadcastFields
    }
  }
`)

export const AdminKpisQuery = graphql(`
  query AdminKpis($from: Time!, $to: Time!) {
    kpis(from: $from, to: $to) {
      mrrCents
      activeSubscriptions
      newUsers
      generations
      charactersGenerated
      successRate
      daily {
        date
        newUsers
        generations
        characters
        revenueCents
      }
    }
  }
`)
