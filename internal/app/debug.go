package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves pprof on KOE_DEBUG_ADDR, a loopback address (checked
// by config): profiles reveal internals and cost CPU, so they are never on
// the public listener.
func (a *App) startDebug() error {
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("KOE_DEBUG_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.DebugURL = "http://" + ln.Addr().String()
	a.goRun(func() {
		if err := a.debug.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("debug server", "err", err)
		}
	})
	return nil
}
