package app

import (
	"net/http"
	"net/http/pprof"
)

// startDebug serves pprof on KOE_DEBUG_ADDR, a loopback address (checked
// by config): profiles reveal internals and cost CPU, so they are never on
// the public listener.
func (a *App) startDebug() (err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.debug, a.DebugURL, err = a.serveAside("KOE_DEBUG_ADDR", a.cfg.DebugAddr, mux)
	return err
}
