import type { CodegenConfig } from '@graphql-codegen/cli'

// Typed documents from the server's schema. Operations live in
// app/graphql/<area>.ts as graphql(`...`) calls; the output in app/gql/ is
// committed, and scripts/web-test.sh fails when it is stale.
const config: CodegenConfig = {
  schema: '../graph/schema.graphqls',
  documents: ['app/graphql/**/*.ts'],
  ignoreNoDocuments: true,
  generates: {
    'app/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Time: 'string' },
        skipTypename: false,
      },
    },
  },
}

export default config
