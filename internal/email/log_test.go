package email

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLogSender(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := testMessage("log-1", "ada@example.com")
	m.Unsubscribe = "https://koe.test/unsubscribe?t=x"
	require.NoError(t, l.Send(context.Background(), m))
	require.NoError(t, l.Send(context.Background(), Message{}), "the log sender never fails")
	require.NoError(t, l.Close())

	var entry map[string]any
	require.NoError(t, json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &entry))
	require.Equal(t, "log-1", entry["id"])
	require.Equal(t, "ada@example.com", entry["to"])
	require.Equal(t, "Hello", entry["subject"])
	require.Equal(t, "Hello, Ada.", entry["text"])
	require.Equal(t, m.Unsubscribe, entry["unsubscribe"])
}
