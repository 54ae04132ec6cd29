// Operations of the account area: usage and billing, notifications, API keys.
// Run `npm run codegen` after changing any of them.
import { graphql } from '~/gql'

export const AccountPlanFields = graphql(`
  fragment AccountPlanFields on Plan {
    id
    code
    name
    monthlyPriceCents
    currency
    includedCharacters
    overagePricePer1000Cents
    maxConcurrentGenerations
    maxCharactersPerGeneration
    requestsPerMinute
    features
    purchasable
  }
`)

export const AccountUsageFields = graphql(`
  fragment AccountUsageFields on Usage {
    periodStart
    periodEnd
    includedCharacters
    usedCharacters
    reservedCharacters
    creditCharacters
    overageCharacters
    remainingCharacters
    daily {
      date
      characters
      generations
    }
  }
`)

export const BillingOverviewQuery = graphql(`
  query BillingOverview {
    me {
      id
      plan {
        ...AccountPlanFields
      }
      subscription {
        status
        currentPeriodEnd
        cancelAtPeriodEnd
        plan {
          id
          code
          name
        }
      }
      usage {
        ...AccountUsageFields
      }
    }
    plans {
      ...AccountPlanFields
    }
    creditPacks {
      id
      code
      name
      characters
      priceCents
      currency
      purchasable
    }
  }
`)

export const CreateCheckoutSessionMutation = graphql(`
  mutation CreateCheckoutSession($input: CheckoutInput!) {
    createCheckoutSession(input: $input) {
      id
      url
    }
  }
`)

export const CreateBillingPortalSessionMutation = graphql(`
  mutation CreateBillingPortalSession($returnUrl: String!) {
    createBillingPortalSession(returnUrl: $returnUrl) {
      url
    }
  }
`)

export const AccountNotificationFields = graphql(`
  fragment AccountNotificationFields on Notification {
    id
    kind
    title
    body
    readAt
    createdAt
  }
`)

export const NotificationsQuery = graphql(`
  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {
    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...AccountNotificationFields
        }
      }
    }
  }
`)

export const UnreadNotificationCountQuery = graphql(`
  query UnreadNotificationCount {
    notifications(unreadOnly: true, first: 0) {
      totalCount
    }
  }
`)

export const NotificationAddedSubscription = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      ...AccountNotificationFields
    }
  }
`)

export const MarkNotificationsReadMutation = graphql(`
  mutation MarkNotificationsRead($ids: [ID!]) {
    markNotificationsRead(ids: $ids)
  }
`)

export const AccountNotificationPreferencesFields = graphql(`
  fragment AccountNotificationPreferencesFields on NotificationPreferences {
    emailOnGenerationFinished
    emailOnUsageThreshold
    emailOnBilling
    productNews
  }
`)

export const NotificationPreferencesQuery = graphql(`
  query NotificationPreferences {
    me {
      id
      notificationPreferences {
        ...AccountNotificationPreferencesFields
      }
    }
  }
`)

export const UpdateNotificationPreferencesMutation = graphql(`
  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {
    updateNotificationPreferences(input: $input) {
      ...AccountNotificationPreferencesFields
    }
  }
`)

export const AccountApiKeyFields = graphql(`
  fragment AccountApiKeyFields on ApiKey {
    id
    name
    prefix
    createdAt
    lastUsedAt
    revokedAt
  }
`)

export const ApiKeysQuery = graphql(`
  query ApiKeys {
    apiKeys {
      ...AccountApiKeyFields
    }
  }
`)

export const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($name: String!) {
    createApiKey(name: $name) {
      secret
      apiKey {
        ...AccountApiKeyFields
      }
    }
  }
`)

export const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      ...AccountApiKeyFields
    }
  }
`)
