package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/koe-voice/koe/internal/metrics"
)

// startMetrics serves /metrics on KOE_METRICS_ADDR, a listener of its own
// for the scraper: the public one answers it only with KOE_METRICS_TOKEN.
func (a *App) startMetrics() (err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(a.gauges))
	a.metrics, a.MetricsURL, err = a.serveAside("KOE_METRICS_ADDR", a.cfg.MetricsAddr, mux)
	return err
}

// serveAside serves handler on a listener of its own at addr (the variable
// name says which, in errors), beside the public one, until Shutdown.
func (a *App) serveAside(name, addr string, handler http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	a.goRun(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("listener "+name, "err", err)
		}
	})
	return srv, "http://" + ln.Addr().String(), nil
}
