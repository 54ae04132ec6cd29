/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment AccountPlanFields on Plan {\n    id\n    code\n    name\n    monthlyPriceCents\n    currency\n    includedCharacters\n    overagePricePer1000Cents\n    maxConcurrentGenerations\n    maxCharactersPerGeneration\n    requestsPerMinute\n    features\n    purchasable\n  }\n": typeof types.AccountPlanFieldsFragmentDoc,
    "\n  fragment AccountUsageFields on Usage {\n    periodStart\n    periodEnd\n    includedCharacters\n    usedCharacters\n    reservedCharacters\n    creditCharacters\n    overageCharacters\n    remainingCharacters\n    daily {\n      date\n      characters\n      generations\n    }\n  }\n": typeof types.AccountUsageFieldsFragmentDoc,
    "\n  query BillingOverview {\n    me {\n      id\n      plan {\n        ...AccountPlanFields\n      }\n      subscription {\n        status\n        currentPeriodEnd\n        cancelAtPeriodEnd\n        plan {\n          id\n          code\n          name\n        }\n      }\n      usage {\n        ...AccountUsageFields\n      }\n    }\n    plans {\n      ...AccountPlanFields\n    }\n    creditPacks {\n      id\n      code\n      name\n      characters\n      priceCents\n      currency\n      purchasable\n    }\n  }\n": typeof types.BillingOverviewDocument,
    "\n  mutation CreateCheckoutSession($input: CheckoutInput!) {\n    createCheckoutSession(input: $input) {\n      id\n      url\n    }\n  }\n": typeof types.CreateCheckoutSessionDocument,
    "\n  mutation CreateBillingPortalSession($returnUrl: String!) {\n    createBillingPortalSession(returnUrl: $returnUrl) {\n      url\n    }\n  }\n": typeof types.CreateBillingPortalSessionDocument,
    "\n  fragment AccountNotificationFields on Notification {\n    id\n    kind\n    title\n    body\n    readAt\n    createdAt\n  }\n": typeof types.AccountNotificationFieldsFragmentDoc,
    "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AccountNotificationFields\n        }\n      }\n    }\n  }\n": typeof types.NotificationsDocument,
    "\n  query UnreadNotificationCount {\n    notifications(unreadOnly: true, first: 0) {\n      totalCount\n    }\n  }\n": typeof types.UnreadNotificationCountDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...AccountNotificationFields\n    }\n  }\n": typeof types.NotificationAddedDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n": typeof types.MarkNotificationsReadDocument,
    "\n  fragment AccountNotificationPreferencesFields on NotificationPreferences {\n    emailOnGenerationFinished\n    emailOnUsageThreshold\n    emailOnBilling\n    productNews\n  }\n": typeof types.AccountNotificationPreferencesFieldsFragmentDoc,
    "\n  query NotificationPreferences {\n    me {\n      id\n      notificationPreferences {\n        ...AccountNotificationPreferencesFields\n      }\n    }\n  }\n": typeof types.NotificationPreferencesDocument,
    "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      ...AccountNotificationPreferencesFields\n    }\n  }\n": typeof types.UpdateNotificationPreferencesDocument,
    "\n  fragment AccountApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    lastUsedAt\n    revokedAt\n  }\n": typeof types.AccountApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys {\n    apiKeys {\n      ...AccountApiKeyFields\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        ...AccountApiKeyFields\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...AccountApiKeyFields\n    }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  query AdminUsers($search: String, $role: Role, $first: Int, $after: String) {\n    users(search: $search, role: $role, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          id\n          email\n          displayName\n          role\n          createdAt\n          disabledAt\n          plan {\n            id\n            code\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.AdminUsersDocument,
    "\n  mutation AdminSetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n": typeof types.AdminSetUserRoleDocument,
    "\n  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {\n    setUserDisabled(userId: $userId, disabled: $disabled) {\n      id\n      disabledAt\n    }\n  }\n": typeof types.AdminSetUserDisabledDocument,
    "\n  fragment AdminPlanFields on Plan {\n    ...AccountPlanFields\n    maxWebsockets\n    maxSubscriptions\n    stripePriceId\n  }\n": typeof types.AdminPlanFieldsFragmentDoc,
    "\n  query AdminPlans {\n    plans {\n      ...AdminPlanFields\n    }\n  }\n": typeof types.AdminPlansDocument,
    "\n  mutation AdminUpsertPlan($input: PlanInput!) {\n    upsertPlan(input: $input) {\n      ...AdminPlanFields\n    }\n  }\n": typeof types.AdminUpsertPlanDocument,
    "\n  query AdminVoices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n        }\n      }\n    }\n  }\n": typeof types.AdminVoicesDocument,
    "\n  mutation AdminSetVoiceEnabled($id: ID!, $enabled: Boolean!) {\n    setVoiceEnabled(id: $id, enabled: $enabled) {\n      id\n      enabled\n    }\n  }\n": typeof types.AdminSetVoiceEnabledDocument,
    "\n  fragment AdminBroadcastFields on Broadcast {\n    id\n    subject\n    status\n    sendAt\n    optimizeSendTime\n    recipients\n    sent\n    failed\n    canceled\n    createdAt\n  }\n": typeof types.AdminBroadcastFieldsFragmentDoc,
    "\n  query AdminBroadcasts($first: Int, $after: String) {\n    broadcasts(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AdminBroadcastFields\n        }\n      }\n    }\n  }\n": typeof types.AdminBroadcastsDocument,
    "\n  mutation AdminCreateBroadcast($input: BroadcastInput!) {\n    createBroadcast(input: $input) {\n      ...AdminBroadcastFields\n    }\n  }\n": typeof types.AdminCreateBroadcastDocument,
    "\n  mutation AdminCancelBroadcast($id: ID!) {\n    cancelBroadcast(id: $id) {\n      ...AdminBroadcastFields\n    }\n  }\n": typeof types.AdminCancelBroadcastDocument,
    "\n  query AdminKpis($from: Time!, $to: Time!) {\n    kpis(from: $from, to: $to) {\n      mrrCents\n      activeSubscriptions\n      newUsers\n      generations\n      charactersGenerated\n      successRate\n      daily {\n        date\n        newUsers\n        generations\n        characters\n        revenueCents\n      }\n    }\n  }\n": typeof types.AdminKpisDocument,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": typeof types.PageInfoFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      id\n      email\n      displayName\n      role\n      plan {\n        id\n        code\n        name\n        includedCharacters\n        overagePricePer1000Cents\n        maxCharactersPerGeneration\n        maxConcurrentGenerations\n      }\n      usage {\n        periodEnd\n        includedCharacters\n        usedCharacters\n        reservedCharacters\n        creditCharacters\n        overageCharacters\n        remainingCharacters\n      }\n    }\n  }\n": typeof types.MeDocument,
    "\n  fragment VoiceFields on Voice {\n    id\n    name\n    language\n    languageName\n    gender\n    engine\n    quality\n    enabled\n  }\n": typeof types.VoiceFieldsFragmentDoc,
    "\n  query Voices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n          tags\n          previewUrl\n        }\n      }\n    }\n  }\n": typeof types.VoicesDocument,
    "\n  query VoiceLanguages {\n    voiceLanguages {\n      language\n      name\n      voiceCount\n    }\n  }\n": typeof types.VoiceLanguagesDocument,
    "\n  query Voice($id: ID!) {\n    voice(id: $id) {\n      id\n      name\n      language\n      languageName\n      enabled\n    }\n  }\n": typeof types.VoiceDocument,
    "\n  fragment GenerationLiveFields on Generation {\n    id\n    status\n    progress\n    text\n    characters\n    format\n    speed\n    pitch\n    createdAt\n    finishedAt\n    audio {\n      url\n      contentType\n      bytes\n      durationMs\n    }\n    error {\n      code\n      message\n    }\n  }\n": typeof types.GenerationLiveFieldsFragmentDoc,
    "\n  fragment GenerationFields on Generation {\n    ...GenerationLiveFields\n    voice {\n      id\n      name\n      languageName\n    }\n  }\n": typeof types.GenerationFieldsFragmentDoc,
    "\n  fragment GenerationEventFields on GenerationEvent {\n    status\n    progress\n    chunksDone\n    chunksTotal\n    generation {\n      ...GenerationLiveFields\n    }\n  }\n": typeof types.GenerationEventFieldsFragmentDoc,
    "\n  mutation CreateGeneration($input: CreateGenerationInput!) {\n    createGeneration(input: $input) {\n      ...GenerationFields\n    }\n  }\n": typeof types.CreateGenerationDocument,
    "\n  subscription GenerationUpdated($id: ID!) {\n    generationUpdated(id: $id) {\n      ...GenerationEventFields\n    }\n  }\n": typeof types.GenerationUpdatedDocument,
    "\n  subscription MyGenerationUpdates {\n    myGenerationUpdates {\n      ...GenerationEventFields\n    }\n  }\n": typeof types.MyGenerationUpdatesDocument,
    "\n  query Generations($status: GenerationStatus, $first: Int, $after: String) {\n    generations(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...GenerationFields\n        }\n      }\n    }\n  }\n": typeof types.GenerationsDocument,
    "\n  query Generation($id: ID!) {\n    generation(id: $id) {\n      ...GenerationFields\n    }\n  }\n": typeof types.GenerationDocument,
    "\n  mutation CancelGeneration($id: ID!) {\n    cancelGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n": typeof types.CancelGenerationDocument,
    "\n  mutation RetryGeneration($id: ID!) {\n    retryGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n": typeof types.RetryGenerationDocument,
    "\n  mutation DeleteGeneration($id: ID!) {\n    deleteGeneration(id: $id)\n  }\n": typeof types.DeleteGenerationDocument,
    "\n  fragment LexiconEntryFields on LexiconEntry {\n    id\n    grapheme\n    alias\n    language\n    createdAt\n  }\n": typeof types.LexiconEntryFieldsFragmentDoc,
    "\n  query Lexicon($first: Int, $after: String) {\n    lexicon(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...LexiconEntryFields\n        }\n      }\n    }\n  }\n": typeof types.LexiconDocument,
    "\n  mutation UpsertLexiconEntry($input: LexiconEntryInput!) {\n    upsertLexiconEntry(input: $input) {\n      ...LexiconEntryFields\n    }\n  }\n": typeof types.UpsertLexiconEntryDocument,
    "\n  mutation DeleteLexiconEntry($id: ID!) {\n    deleteLexiconEntry(id: $id)\n  }\n": typeof types.DeleteLexiconEntryDocument,
};
const documents: Documents = {
    "\n  fragment AccountPlanFields on Plan {\n    id\n    code\n    name\n    monthlyPriceCents\n    currency\n    includedCharacters\n    overagePricePer1000Cents\n    maxConcurrentGenerations\n    maxCharactersPerGeneration\n    requestsPerMinute\n    features\n    purchasable\n  }\n": types.AccountPlanFieldsFragmentDoc,
    "\n  fragment AccountUsageFields on Usage {\n    periodStart\n    periodEnd\n    includedCharacters\n    usedCharacters\n    reservedCharacters\n    creditCharacters\n    overageCharacters\n    remainingCharacters\n    daily {\n      date\n      characters\n      generations\n    }\n  }\n": types.AccountUsageFieldsFragmentDoc,
    "\n  query BillingOverview {\n    me {\n      id\n      plan {\n        ...AccountPlanFields\n      }\n      subscription {\n        status\n        currentPeriodEnd\n        cancelAtPeriodEnd\n        plan {\n          id\n          code\n          name\n        }\n      }\n      usage {\n        ...AccountUsageFields\n      }\n    }\n    plans {\n      ...AccountPlanFields\n    }\n    creditPacks {\n      id\n      code\n      name\n      characters\n      priceCents\n      currency\n      purchasable\n    }\n  }\n": types.BillingOverviewDocument,
    "\n  mutation CreateCheckoutSession($input: CheckoutInput!) {\n    createCheckoutSession(input: $input) {\n      id\n      url\n    }\n  }\n": types.CreateCheckoutSessionDocument,
    "\n  mutation CreateBillingPortalSession($returnUrl: String!) {\n    createBillingPortalSession(returnUrl: $returnUrl) {\n      url\n    }\n  }\n": types.CreateBillingPortalSessionDocument,
    "\n  fragment AccountNotificationFields on Notification {\n    id\n    kind\n    title\n    body\n    readAt\n    createdAt\n  }\n": types.AccountNotificationFieldsFragmentDoc,
    "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AccountNotificationFields\n        }\n      }\n    }\n  }\n": types.NotificationsDocument,
    "\n  query UnreadNotificationCount {\n    notifications(unreadOnly: true, first: 0) {\n      totalCount\n    }\n  }\n": types.UnreadNotificationCountDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...AccountNotificationFields\n    }\n  }\n": types.NotificationAddedDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n": types.MarkNotificationsReadDocument,
    "\n  fragment AccountNotificationPreferencesFields on NotificationPreferences {\n    emailOnGenerationFinished\n    emailOnUsageThreshold\n    emailOnBilling\n    productNews\n  }\n": types.AccountNotificationPreferencesFieldsFragmentDoc,
    "\n  query NotificationPreferences {\n    me {\n      id\n      notificationPreferences {\n        ...AccountNotificationPreferencesFields\n      }\n    }\n  }\n": types.NotificationPreferencesDocument,
    "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      ...AccountNotificationPreferencesFields\n    }\n  }\n": types.UpdateNotificationPreferencesDocument,
    "\n  fragment AccountApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    lastUsedAt\n    revokedAt\n  }\n": types.AccountApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys {\n    apiKeys {\n      ...AccountApiKeyFields\n    }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        ...AccountApiKeyFields\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...AccountApiKeyFields\n    }\n  }\n": types.RevokeApiKeyDocument,
    "\n  query AdminUsers($search: String, $role: Role, $first: Int, $after: String) {\n    users(search: $search, role: $role, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          id\n          email\n          displayName\n          role\n          createdAt\n          disabledAt\n          plan {\n            id\n            code\n            name\n          }\n        }\n      }\n    }\n  }\n": types.AdminUsersDocument,
    "\n  mutation AdminSetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n": types.AdminSetUserRoleDocument,
    "\n  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {\n    setUserDisabled(userId: $userId, disabled: $disabled) {\n      id\n      disabledAt\n    }\n  }\n": types.AdminSetUserDisabledDocument,
    "\n  fragment AdminPlanFields on Plan {\n    ...AccountPlanFields\n    maxWebsockets\n    maxSubscriptions\n    stripePriceId\n  }\n": types.AdminPlanFieldsFragmentDoc,
    "\n  query AdminPlans {\n    plans {\n      ...AdminPlanFields\n    }\n  }\n": types.AdminPlansDocument,
    "\n  mutation AdminUpsertPlan($input: PlanInput!) {\n    upsertPlan(input: $input) {\n      ...AdminPlanFields\n    }\n  }\n": types.AdminUpsertPlanDocument,
    "\n  query AdminVoices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n        }\n      }\n    }\n  }\n": types.AdminVoicesDocument,
    "\n  mutation AdminSetVoiceEnabled($id: ID!, $enabled: Boolean!) {\n    setVoiceEnabled(id: $id, enabled: $enabled) {\n      id\n      enabled\n    }\n  }\n": types.AdminSetVoiceEnabledDocument,
    "\n  fragment AdminBroadcastFields on Broadcast {\n    id\n    subject\n    status\n    sendAt\n    optimizeSendTime\n    recipients\n    sent\n    failed\n    canceled\n    createdAt\n  }\n": types.AdminBroadcastFieldsFragmentDoc,
    "\n  query AdminBroadcasts($first: Int, $after: String) {\n    broadcasts(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AdminBroadcastFields\n        }\n      }\n    }\n  }\n": types.AdminBroadcastsDocument,
    "\n  mutation AdminCreateBroadcast($input: BroadcastInput!) {\n    createBroadcast(input: $input) {\n      ...AdminBroadcastFields\n    }\n  }\n": types.AdminCreateBroadcastDocument,
    "\n  mutation AdminCancelBroadcast($id: ID!) {\n    cancelBroadcast(id: $id) {\n      ...AdminBroadcastFields\n    }\n  }\n": types.AdminCancelBroadcastDocument,
    "\n  query AdminKpis($from: Time!, $to: Time!) {\n    kpis(from: $from, to: $to) {\n      mrrCents\n      activeSubscriptions\n      newUsers\n      generations\n      charactersGenerated\n      successRate\n      daily {\n        date\n        newUsers\n        generations\n        characters\n        revenueCents\n      }\n    }\n  }\n": types.AdminKpisDocument,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": types.PageInfoFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      id\n      email\n      displayName\n      role\n      plan {\n        id\n        code\n        name\n        includedCharacters\n        overagePricePer1000Cents\n        maxCharactersPerGeneration\n        maxConcurrentGenerations\n      }\n      usage {\n        periodEnd\n        includedCharacters\n        usedCharacters\n        reservedCharacters\n        creditCharacters\n        overageCharacters\n        remainingCharacters\n      }\n    }\n  }\n": types.MeDocument,
    "\n  fragment VoiceFields on Voice {\n    id\n    name\n    language\n    languageName\n    gender\n    engine\n    quality\n    enabled\n  }\n": types.VoiceFieldsFragmentDoc,
    "\n  query Voices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n          tags\n          previewUrl\n        }\n      }\n    }\n  }\n": types.VoicesDocument,
    "\n  query VoiceLanguages {\n    voiceLanguages {\n      language\n      name\n      voiceCount\n    }\n  }\n": types.VoiceLanguagesDocument,
    "\n  query Voice($id: ID!) {\n    voice(id: $id) {\n      id\n      name\n      language\n      languageName\n      enabled\n    }\n  }\n": types.VoiceDocument,
    "\n  fragment GenerationLiveFields on Generation {\n    id\n    status\n    progress\n    text\n    characters\n    format\n    speed\n    pitch\n    createdAt\n    finishedAt\n    audio {\n      url\n      contentType\n      bytes\n      durationMs\n    }\n    error {\n      code\n      message\n    }\n  }\n": types.GenerationLiveFieldsFragmentDoc,
    "\n  fragment GenerationFields on Generation {\n    ...GenerationLiveFields\n    voice {\n      id\n      name\n      languageName\n    }\n  }\n": types.GenerationFieldsFragmentDoc,
    "\n  fragment GenerationEventFields on GenerationEvent {\n    status\n    progress\n    chunksDone\n    chunksTotal\n    generation {\n      ...GenerationLiveFields\n    }\n  }\n": types.GenerationEventFieldsFragmentDoc,
    "\n  mutation CreateGeneration($input: CreateGenerationInput!) {\n    createGeneration(input: $input) {\n      ...GenerationFields\n    }\n  }\n": types.CreateGenerationDocument,
    "\n  subscription GenerationUpdated($id: ID!) {\n    generationUpdated(id: $id) {\n      ...GenerationEventFields\n    }\n  }\n": types.GenerationUpdatedDocument,
    "\n  subscription MyGenerationUpdates {\n    myGenerationUpdates {\n      ...GenerationEventFields\n    }\n  }\n": types.MyGenerationUpdatesDocument,
    "\n  query Generations($status: GenerationStatus, $first: Int, $after: String) {\n    generations(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...GenerationFields\n        }\n      }\n    }\n  }\n": types.GenerationsDocument,
    "\n  query Generation($id: ID!) {\n    generation(id: $id) {\n      ...GenerationFields\n    }\n  }\n": types.GenerationDocument,
    "\n  mutation CancelGeneration($id: ID!) {\n    cancelGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n": types.CancelGenerationDocument,
    "\n  mutation RetryGeneration($id: ID!) {\n    retryGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n": types.RetryGenerationDocument,
    "\n  mutation DeleteGeneration($id: ID!) {\n    deleteGeneration(id: $id)\n  }\n": types.DeleteGenerationDocument,
    "\n  fragment LexiconEntryFields on LexiconEntry {\n    id\n    grapheme\n    alias\n    language\n    createdAt\n  }\n": types.LexiconEntryFieldsFragmentDoc,
    "\n  query Lexicon($first: Int, $after: String) {\n    lexicon(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...LexiconEntryFields\n        }\n      }\n    }\n  }\n": types.LexiconDocument,
    "\n  mutation UpsertLexiconEntry($input: LexiconEntryInput!) {\n    upsertLexiconEntry(input: $input) {\n      ...LexiconEntryFields\n    }\n  }\n": types.UpsertLexiconEntryDocument,
    "\n  mutation DeleteLexiconEntry($id: ID!) {\n    deleteLexiconEntry(id: $id)\n  }\n": types.DeleteLexiconEntryDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountPlanFields on Plan {\n    id\n    code\n    name\n    monthlyPriceCents\n    currency\n    includedCharacters\n    overagePricePer1000Cents\n    maxConcurrentGenerations\n    maxCharactersPerGeneration\n    requestsPerMinute\n    features\n    purchasable\n  }\n"): (typeof documents)["\n  fragment AccountPlanFields on Plan {\n    id\n    code\n    name\n    monthlyPriceCents\n    currency\n    includedCharacters\n    overagePricePer1000Cents\n    maxConcurrentGenerations\n    maxCharactersPerGeneration\n    requestsPerMinute\n    features\n    purchasable\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountUsageFields on Usage {\n    periodStart\n    periodEnd\n    includedCharacters\n    usedCharacters\n    reservedCharacters\n    creditCharacters\n    overageCharacters\n    remainingCharacters\n    daily {\n      date\n      characters\n      generations\n    }\n  }\n"): (typeof documents)["\n  fragment AccountUsageFields on Usage {\n    periodStart\n    periodEnd\n    includedCharacters\n    usedCharacters\n    reservedCharacters\n    creditCharacters\n    overageCharacters\n    remainingCharacters\n    daily {\n      date\n      characters\n      generations\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BillingOverview {\n    me {\n      id\n      plan {\n        ...AccountPlanFields\n      }\n      subscription {\n        status\n        currentPeriodEnd\n        cancelAtPeriodEnd\n        plan {\n          id\n          code\n          name\n        }\n      }\n      usage {\n        ...AccountUsageFields\n      }\n    }\n    plans {\n      ...AccountPlanFields\n    }\n    creditPacks {\n      id\n      code\n      name\n      characters\n      priceCents\n      currency\n      purchasable\n    }\n  }\n"): (typeof documents)["\n  query BillingOverview {\n    me {\n      id\n      plan {\n        ...AccountPlanFields\n      }\n      subscription {\n        status\n        currentPeriodEnd\n        cancelAtPeriodEnd\n        plan {\n          id\n          code\n          name\n        }\n      }\n      usage {\n        ...AccountUsageFields\n      }\n    }\n    plans {\n      ...AccountPlanFields\n    }\n    creditPacks {\n      id\n      code\n      name\n      characters\n      priceCents\n      currency\n      purchasable\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateCheckoutSession($input: CheckoutInput!) {\n    createCheckoutSession(input: $input) {\n      id\n      url\n    }\n  }\n"): (typeof documents)["\n  mutation CreateCheckoutSession($input: CheckoutInput!) {\n    createCheckoutSession(input: $input) {\n      id\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBillingPortalSession($returnUrl: String!) {\n    createBillingPortalSession(returnUrl: $returnUrl) {\n      url\n    }\n  }\n"): (typeof documents)["\n  mutation CreateBillingPortalSession($returnUrl: String!) {\n    createBillingPortalSession(returnUrl: $returnUrl) {\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountNotificationFields on Notification {\n    id\n    kind\n    title\n    body\n    readAt\n    createdAt\n  }\n"): (typeof documents)["\n  fragment AccountNotificationFields on Notification {\n    id\n    kind\n    title\n    body\n    readAt\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AccountNotificationFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AccountNotificationFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UnreadNotificationCount {\n    notifications(unreadOnly: true, first: 0) {\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query UnreadNotificationCount {\n    notifications(unreadOnly: true, first: 0) {\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationAdded {\n    notificationAdded {\n      ...AccountNotificationFields\n    }\n  }\n"): (typeof documents)["\n  subscription NotificationAdded {\n    notificationAdded {\n      ...AccountNotificationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n"): (typeof documents)["\n  mutation MarkNotificationsRead($ids: [ID!]) {\n    markNotificationsRead(ids: $ids)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountNotificationPreferencesFields on NotificationPreferences {\n    emailOnGenerationFinished\n    emailOnUsageThreshold\n    emailOnBilling\n    productNews\n  }\n"): (typeof documents)["\n  fragment AccountNotificationPreferencesFields on NotificationPreferences {\n    emailOnGenerationFinished\n    emailOnUsageThreshold\n    emailOnBilling\n    productNews\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NotificationPreferences {\n    me {\n      id\n      notificationPreferences {\n        ...AccountNotificationPreferencesFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query NotificationPreferences {\n    me {\n      id\n      notificationPreferences {\n        ...AccountNotificationPreferencesFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      ...AccountNotificationPreferencesFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      ...AccountNotificationPreferencesFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    lastUsedAt\n    revokedAt\n  }\n"): (typeof documents)["\n  fragment AccountApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    lastUsedAt\n    revokedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys {\n    apiKeys {\n      ...AccountApiKeyFields\n    }\n  }\n"): (typeof documents)["\n  query ApiKeys {\n    apiKeys {\n      ...AccountApiKeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        ...AccountApiKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($name: String!) {\n    createApiKey(name: $name) {\n      secret\n      apiKey {\n        ...AccountApiKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...AccountApiKeyFields\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...AccountApiKeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($search: String, $role: Role, $first: Int, $after: String) {\n    users(search: $search, role: $role, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          id\n          email\n          displayName\n          role\n          createdAt\n          disabledAt\n          plan {\n            id\n            code\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($search: String, $role: Role, $first: Int, $after: String) {\n    users(search: $search, role: $role, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          id\n          email\n          displayName\n          role\n          createdAt\n          disabledAt\n          plan {\n            id\n            code\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminSetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation AdminSetUserRole($userId: ID!, $role: Role!) {\n    setUserRole(userId: $userId, role: $role) {\n      id\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {\n    setUserDisabled(userId: $userId, disabled: $disabled) {\n      id\n      disabledAt\n    }\n  }\n"): (typeof documents)["\n  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {\n    setUserDisabled(userId: $userId, disabled: $disabled) {\n      id\n      disabledAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AdminPlanFields on Plan {\n    ...AccountPlanFields\n    maxWebsockets\n    maxSubscriptions\n    stripePriceId\n  }\n"): (typeof documents)["\n  fragment AdminPlanFields on Plan {\n    ...AccountPlanFields\n    maxWebsockets\n    maxSubscriptions\n    stripePriceId\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminPlans {\n    plans {\n      ...AdminPlanFields\n    }\n  }\n"): (typeof documents)["\n  query AdminPlans {\n    plans {\n      ...AdminPlanFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminUpsertPlan($input: PlanInput!) {\n    upsertPlan(input: $input) {\n      ...AdminPlanFields\n    }\n  }\n"): (typeof documents)["\n  mutation AdminUpsertPlan($input: PlanInput!) {\n    upsertPlan(input: $input) {\n      ...AdminPlanFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminVoices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminVoices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminSetVoiceEnabled($id: ID!, $enabled: Boolean!) {\n    setVoiceEnabled(id: $id, enabled: $enabled) {\n      id\n      enabled\n    }\n  }\n"): (typeof documents)["\n  mutation AdminSetVoiceEnabled($id: ID!, $enabled: Boolean!) {\n    setVoiceEnabled(id: $id, enabled: $enabled) {\n      id\n      enabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AdminBroadcastFields on Broadcast {\n    id\n    subject\n    status\n    sendAt\n    optimizeSendTime\n    recipients\n    sent\n    failed\n    canceled\n    createdAt\n  }\n"): (typeof documents)["\n  fragment AdminBroadcastFields on Broadcast {\n    id\n    subject\n    status\n    sendAt\n    optimizeSendTime\n    recipients\n    sent\n    failed\n    canceled\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminBroadcasts($first: Int, $after: String) {\n    broadcasts(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AdminBroadcastFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminBroadcasts($first: Int, $after: String) {\n    broadcasts(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...AdminBroadcastFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminCreateBroadcast($input: BroadcastInput!) {\n    createBroadcast(input: $input) {\n      ...AdminBroadcastFields\n    }\n  }\n"): (typeof documents)["\n  mutation AdminCreateBroadcast($input: BroadcastInput!) {\n    createBroadcast(input: $input) {\n      ...AdminBroadcastFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminCancelBroadcast($id: ID!) {\n    cancelBroadcast(id: $id) {\n      ...AdminBroadcastFields\n    }\n  }\n"): (typeof documents)["\n  mutation AdminCancelBroadcast($id: ID!) {\n    cancelBroadcast(id: $id) {\n      ...AdminBroadcastFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminKpis($from: Time!, $to: Time!) {\n    kpis(from: $from, to: $to) {\n      mrrCents\n      activeSubscriptions\n      newUsers\n      generations\n      charactersGenerated\n      successRate\n      daily {\n        date\n        newUsers\n        generations\n        characters\n        revenueCents\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminKpis($from: Time!, $to: Time!) {\n    kpis(from: $from, to: $to) {\n      mrrCents\n      activeSubscriptions\n      newUsers\n      generations\n      charactersGenerated\n      successRate\n      daily {\n        date\n        newUsers\n        generations\n        characters\n        revenueCents\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"): (typeof documents)["\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      email\n      displayName\n      role\n      plan {\n        id\n        code\n        name\n        includedCharacters\n        overagePricePer1000Cents\n        maxCharactersPerGeneration\n        maxConcurrentGenerations\n      }\n      usage {\n        periodEnd\n        includedCharacters\n        usedCharacters\n        reservedCharacters\n        creditCharacters\n        overageCharacters\n        remainingCharacters\n      }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      email\n      displayName\n      role\n      plan {\n        id\n        code\n        name\n        includedCharacters\n        overagePricePer1000Cents\n        maxCharactersPerGeneration\n        maxConcurrentGenerations\n      }\n      usage {\n        periodEnd\n        includedCharacters\n        usedCharacters\n        reservedCharacters\n        creditCharacters\n        overageCharacters\n        remainingCharacters\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment VoiceFields on Voice {\n    id\n    name\n    language\n    languageName\n    gender\n    engine\n    quality\n    enabled\n  }\n"): (typeof documents)["\n  fragment VoiceFields on Voice {\n    id\n    name\n    language\n    languageName\n    gender\n    engine\n    quality\n    enabled\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Voices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n          tags\n          previewUrl\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Voices($filter: VoiceFilter, $first: Int, $after: String) {\n    voices(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...VoiceFields\n          tags\n          previewUrl\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query VoiceLanguages {\n    voiceLanguages {\n      language\n      name\n      voiceCount\n    }\n  }\n"): (typeof documents)["\n  query VoiceLanguages {\n    voiceLanguages {\n      language\n      name\n      voiceCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Voice($id: ID!) {\n    voice(id: $id) {\n      id\n      name\n      language\n      languageName\n      enabled\n    }\n  }\n"): (typeof documents)["\n  query Voice($id: ID!) {\n    voice(id: $id) {\n      id\n      name\n      language\n      languageName\n      enabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment GenerationLiveFields on Generation {\n    id\n    status\n    progress\n    text\n    characters\n    format\n    speed\n    pitch\n    createdAt\n    finishedAt\n    audio {\n      url\n      contentType\n      bytes\n      durationMs\n    }\n    error {\n      code\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment GenerationLiveFields on Generation {\n    id\n    status\n    progress\n    text\n    characters\n    format\n    speed\n    pitch\n    createdAt\n    finishedAt\n    audio {\n      url\n      contentType\n      bytes\n      durationMs\n    }\n    error {\n      code\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment GenerationFields on Generation {\n    ...GenerationLiveFields\n    voice {\n      id\n      name\n      languageName\n    }\n  }\n"): (typeof documents)["\n  fragment GenerationFields on Generation {\n    ...GenerationLiveFields\n    voice {\n      id\n      name\n      languageName\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment GenerationEventFields on GenerationEvent {\n    status\n    progress\n    chunksDone\n    chunksTotal\n    generation {\n      ...GenerationLiveFields\n    }\n  }\n"): (typeof documents)["\n  fragment GenerationEventFields on GenerationEvent {\n    status\n    progress\n    chunksDone\n    chunksTotal\n    generation {\n      ...GenerationLiveFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateGeneration($input: CreateGenerationInput!) {\n    createGeneration(input: $input) {\n      ...GenerationFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateGeneration($input: CreateGenerationInput!) {\n    createGeneration(input: $input) {\n      ...GenerationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription GenerationUpdated($id: ID!) {\n    generationUpdated(id: $id) {\n      ...GenerationEventFields\n    }\n  }\n"): (typeof documents)["\n  subscription GenerationUpdated($id: ID!) {\n    generationUpdated(id: $id) {\n      ...GenerationEventFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MyGenerationUpdates {\n    myGenerationUpdates {\n      ...GenerationEventFields\n    }\n  }\n"): (typeof documents)["\n  subscription MyGenerationUpdates {\n    myGenerationUpdates {\n      ...GenerationEventFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Generations($status: GenerationStatus, $first: Int, $after: String) {\n    generations(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...GenerationFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Generations($status: GenerationStatus, $first: Int, $after: String) {\n    generations(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...GenerationFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Generation($id: ID!) {\n    generation(id: $id) {\n      ...GenerationFields\n    }\n  }\n"): (typeof documents)["\n  query Generation($id: ID!) {\n    generation(id: $id) {\n      ...GenerationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelGeneration($id: ID!) {\n    cancelGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelGeneration($id: ID!) {\n    cancelGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryGeneration($id: ID!) {\n    retryGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n"): (typeof documents)["\n  mutation RetryGeneration($id: ID!) {\n    retryGeneration(id: $id) {\n      ...GenerationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteGeneration($id: ID!) {\n    deleteGeneration(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteGeneration($id: ID!) {\n    deleteGeneration(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LexiconEntryFields on LexiconEntry {\n    id\n    grapheme\n    alias\n    language\n    createdAt\n  }\n"): (typeof documents)["\n  fragment LexiconEntryFields on LexiconEntry {\n    id\n    grapheme\n    alias\n    language\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Lexicon($first: Int, $after: String) {\n    lexicon(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...LexiconEntryFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Lexicon($first: Int, $after: String) {\n    lexicon(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        node {\n          ...LexiconEntryFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpsertLexiconEntry($input: LexiconEntryInput!) {\n    upsertLexiconEntry(input: $input) {\n      ...LexiconEntryFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpsertLexiconEntry($input: LexiconEntryInput!) {\n    upsertLexiconEntry(input: $input) {\n      ...LexiconEntryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteLexiconEntry($id: ID!) {\n    deleteLexiconEntry(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteLexiconEntry($id: ID!) {\n    deleteLexiconEntry(id: $id)\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;