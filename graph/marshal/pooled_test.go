package marshal

import (
	"context"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestMarshalPooled is not parallel: it counts the goroutines the process
// starts.
func TestMarshalPooled(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "edges"}}})

	// Every item waits until all of them have started, as items waiting on
	// one dataloader batch do: one after another they would never finish.
	const n = 8
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	indexes := make([]int, n)
	ret := Pooled(ctx, n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		indexes[i] = *graphql.GetFieldContext(ctx).Index
		started.Done()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("the items were not marshalled at once")
		}
		if i == 5 {
			panic("boom")
		}
		return graphql.MarshalInt(i * 10)
	})
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, indexes, "each item knows its index")
	requireOnePanic(t, ctx, ret, "[0,10,20,30,40,null,60,70]", ast.Path{ast.PathName("edges"), ast.PathIndex(5)})

	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	// A worker is idle a moment after its item is done.
	require.Eventually(t, func() bool {
		listWorkers.mu.Lock()
		defer listWorkers.mu.Unlock()
		return len(listWorkers.idle) >= n-1
	}, 10*time.Second, time.Millisecond)
	before := created()
	ret = Pooled(ctx, n, 0, false, func(_ context.Context, i int) graphql.Marshaler { return graphql.MarshalInt(i) })
	require.Len(t, ret, n)
	require.Zero(t, created()-before, "the second list runs on the goroutines of the first")

	require.Empty(t, Pooled(ctx, 0, 0, false, nil))
}
