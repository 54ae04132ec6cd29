// Operations of the core area: sign-in, layout, studio, history.
// Run `npm run codegen` after changing any of them.
import { graphql } from '~/gql'

// Where a page of any list ends; usePagedConnection reads it.
export const PageInfoFields = graphql(`
  fragment PageInfoFields on PageInfo {
    hasNextPage
    endCursor
  }
`)

export const MeQuery = graphql(`
  query Me {
    me {
      id
      email
      displayName
      role
      plan {
        id
        code
        name
        includedCharacters
        overagePricePer1000Cents
        maxCharactersPerGeneration
        maxConcurrentGenerations
      }
      usage {
        periodEnd
        includedCharacters
        usedCharacters
        reservedCharacters
        creditCharacters
        overageCharacters
        remainingCharacters
      }
    }
  }
`)

// A voice as every list of voices shows it.
export const VoiceFields = graphql(`
  fragment VoiceFields on Voice {
    id
    name
    language
    languageName
    gender
    engine
    quality
    enabled
  }
`)

export const VoicesQuery = graphql(`
  query Voices($filter: VoiceFilter, $first: Int, $after: String) {
    voices(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...VoiceFields
          tags
          previewUrl
        }
      }
    }
  }
`)

export const VoiceLanguagesQuery = graphql(`
  query VoiceLanguages {
    voiceLanguages {
      language
      name
      voiceCount
    }
  }
`)

export const VoiceQuery = graphql(`
  query Voice($id: ID!) {
    voice(id: $id) {
      id
      name
      language
      languageName
      enabled
    }
  }
`)

// What subscription events carry: the generation without its voice (the
// page already has it), which keeps each event to one query on the server.
export const GenerationLiveFields = graphql(`
  fragment GenerationLiveFields on Generation {
    id
    status
    progress
    text
    characters
    format
    speed
    pitch
    createdAt
    finishedAt
    audio {
      url
      contentType
      bytes
      durationMs
    }
    error {
      code
      message
    }
  }
`)

export const GenerationFields = graphql(`
  fragment GenerationFields on Generation {
    ...GenerationLiveFields
    voice {
      id
      name
      languageName
    }
  }
`)

export const GenerationEventFields = graphql(`
  fragment GenerationEventFields on GenerationEvent {
    status
    progress
    chunksDone
    chunksTotal
    generation {
      ...GenerationLiveFields
    }
  }
`)

export const CreateGenerationMutation = graphql(`
  mutation CreateGeneration($input: CreateGenerationInput!) {
    createGeneration(input: $input) {
      ...GenerationFields
    }
  }
`)

export const GenerationUpdatedSubscription = graphql(`
  subscription GenerationUpdated($id: ID!) {
    generationUpdated(id: $id) {
      ...GenerationEventFields
    }
  }
`)

export const MyGenerationUpdatesSubscription = graphql(`
  subscription MyGenerationUpdates {
    myGenerationUpdates {
      ...GenerationEventFields
    }
  }
`)

export const GenerationsQuery = graphql(`
  query Generations($status: GenerationStatus, $first: Int, $after: String) {
    generations(status: $status, first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...GenerationFields
        }
      }
    }
  }
`)

export const GenerationQuery = graphql(`
  query Generation($id: ID!) {
    generation(id: $id) {
      ...GenerationFields
    }
  }
`)

export const CancelGenerationMutation = graphql(`
  mutation CancelGeneration($id: ID!) {
    cancelGeneration(id: $id) {
      ...GenerationFields
    }
  }
`)

export const RetryGenerationMutation = graphql(`
  mutation RetryGeneration($id: ID!) {
    retryGeneration(id: $id) {
      ...GenerationFields
    }
  }
`)

export const DeleteGenerationMutation = graphql(`
  mutation DeleteGeneration($id: ID!) {
    deleteGeneration(id: $id)
  }
`)
