package email

import (
	"context"
	"log/slog"
)

// Log is the Sender used when no mail service is configured: it writes each
// message to the log, links included, so a developer can follow them.
type Log struct {
	logger *slog.Logger
}

var _ Sender = (*Log)(nil)

// NewLog returns a Sender that logs to logger (slog.Default() when nil).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// Send logs m at Info and never fails, whatever m holds.
func (l *Log) Send(ctx context.Context, m Message) error {
	l.logger.InfoContext(ctx, "email logged, not sent (no mail service configured)",
		slog.String("id", m.ID),
		slog.String("to", m.To),
		slog.String("to_name", m.ToName),
		slog.String("subject", m.Subject),
		slog.String("unsubscribe", m.Unsubscribe),
		slog.String("text", m.Text),
		slog.Int("html_bytes", len(m.HTML)),
	)
	return nil
}

// Close does nothing.
func (l *Log) Close() error { return nil }
