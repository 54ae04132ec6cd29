package httpapi

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKnownOperationsAreTheWebApps: the operation names /metrics keeps apart
// are exactly the web app's queries and mutations, as its generated documents
// name them (web/app/gql/graphql.ts, made by `npm run codegen`).
func TestKnownOperationsAreTheWebApps(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../web/app/gql/graphql.ts")
	require.NoError(t, err)
	ops := regexp.MustCompile(`"kind":"OperationDefinition","operation":"(query|mutation)","name":\{"kind":"Name","value":"(\w+)"`).FindAllSubmatch(b, -1)
	web := map[string]bool{}
	for _, m := range ops {
		web[string(m[2])] = true
	}
	require.NotEmpty(t, web, "the web app's documents were read")
	require.Equal(t, slices.Sorted(maps.Keys(web)), slices.Sorted(maps.Keys(knownOperations)),
		"knownOperations in graphql.go lists the web app's queries and mutations")
	require.Equal(t, "Voices", operationLabel("Voices"))
	require.Equal(t, "other", operationLabel("Squat001"))
	require.Equal(t, "anonymous", operationLabel(""))
}
