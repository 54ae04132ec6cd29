// Operations of the Pronunciation page: the caller's lexicon. Import and
// export go through REST (/v1/lexicon, PLS XML), not GraphQL.
// Run `npm run codegen` after changing any of them.
import { graphql } from '~/gql'

export const LexiconEntryFields = graphql(`
  fragment LexiconEntryFields on LexiconEntry {
    id
    grapheme
    alias
    language
    createdAt
  }
`)

export const LexiconQuery = graphql(`
  query Lexicon($first: Int, $after: String) {
    lexicon(first: $first, after: $after) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...LexiconEntryFields
        }
      }
    }
  }
`)

export const UpsertLexiconEntryMutation = graphql(`
  mutation UpsertLexiconEntry($input: LexiconEntryInput!) {
    upsertLexiconEntry(input: $input) {
      ...LexiconEntryFields
    }
  }
`)

export const DeleteLexiconEntryMutation = graphql(`
  mutation DeleteLexiconEntry($id: ID!) {
    deleteLexiconEntry(id: $id)
  }
`)
