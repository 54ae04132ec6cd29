// Command koe is the Koe server: `koe` (or `koe serve`) serves until SIGTERM;
// `koe migrate` brings the database up to date and exits; `koe healthcheck`
// asks a local server's /healthz (for container health checks).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/gctune"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/store"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "koe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(os.Stderr, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd := first(args); cmd {
	case "migrate":
		db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Migrate(ctx)
	case "healthcheck":
		return healthcheck(cfg.Addr)
	case "", "serve":
	default:
		return errors.New("usage: koe [serve|migrate|healthcheck]")
	}

	// Fewer collections while the heap is small (see gctune); GOGC, when
	// set, decides instead.
	go gctune.Run(ctx)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if a.AdminKey != "" {
		fmt.Printf("\nAn admin API key was made for this server. It is shown this once; keep it:\n\n    %s\n\n", a.AdminKey)
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Shutdown(context.Background())
		return err
	}
	log.Info("koe is serving", "url", a.URL, "graphql", a.URL+"/query", "playground", cfg.Playground, "role", cfg.Role)
	if cfg.Playground && cfg.Role.ServesAPI() {
		fmt.Printf("GraphQL Playground: %s/\n", a.URL)
	}
	<-ctx.Done()
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Shutdown(shutdownCtx)
}

func healthcheck(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
