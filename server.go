// Command koe is the Koe server: `koe` (or `koe serve`) serves until SIGTERM;
// `koe migrate` brings the database up to date and exits; `koe healthcheck`
// asks a local server's /healthz (for container health checks).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/gctune"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "koe:", err)
		os.Exit(1)
	}
}

// run is the command: it serves until ctx ends. Logs go to stderr; stdout
// gets only what a person at the terminal needs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(stderr, cfg.LogLevel)
	// Everything Koe writes (the database, audio, the first admin key) is
	// its user's alone.
	privateFiles()

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
	if err := welcome(cfg, a.URL, a.AdminKey, stdout); err != nil {
		_ = a.Shutdown(context.Background())
		return err
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Shutdown(context.Background())
		return err
	}
	log.Info("koe is serving", "url", a.URL, "graphql", a.URL+"/query", "studio", cfg.WebDir != "", "playground", cfg.Playground, "role", cfg.Role)
	<-ctx.Done()
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Shutdown(shutdownCtx)
}

// adminKeyFile is where production keeps the admin key made at first start.
const adminKeyFile = "admin-api-key"

// welcome tells the person at the terminal where to go, in this order: the
// studio (or, without it, Playground), the admin key made at first start
// (without KOE_ADMIN_API_KEY), how to sign in with it, and Playground.
// In development the key is printed. In production stdout goes to log
// pipelines that keep it, so the key is written to a file in KOE_DATA_DIR
// readable by this user only, and stdout says where.
func welcome(cfg config.Config, url, key string, stdout io.Writer) error {
	if !cfg.Role.ServesAPI() {
		return nil
	}
	studio := cfg.WebDir != ""
	playground := url + "/"
	if studio {
		playground = url + "/playground"
		fmt.Fprintf(stdout, "Koe studio: %s/\n", url)
	} else if cfg.Playground {
		fmt.Fprintf(stdout, "GraphQL Playground: %s\n", playground)
	}
	if key != "" {
		if !cfg.Production {
			fmt.Fprintf(stdout, "\nAn admin API key was made for this server. It is shown this once; keep it:\n\n    %s\n\n", key)
		} else {
			path := filepath.Join(cfg.DataDir, adminKeyFile)
			if err := writePrivate(path, key+"\n"); err != nil {
				return fmt.Errorf("the admin API key made at first start could not be written to %s (set KOE_ADMIN_API_KEY to have an admin key): %w", path, err)
			}
			fmt.Fprintf(stdout, "\nAn admin API key was made for this server and written to %s (readable by this user only).\n"+
				"Move it to your secret store, or into KOE_ADMIN_API_KEY, and delete the file.\n\n", path)
		}
		switch {
		case studio:
			fmt.Fprintf(stdout, "Sign in at %s/signin by pasting this key into the API key field.\n", url)
		case cfg.Playground:
			fmt.Fprintln(stdout, `In Playground, send it in the headers panel: {"Authorization": "Bearer <key>"}.`)
		default:
			fmt.Fprintf(stdout, "Send it as \"Authorization: Bearer <key>\" to %s/query.\n", url)
		}
	}
	if studio && cfg.Playground {
		fmt.Fprintf(stdout, "GraphQL Playground: %s\n", playground)
	}
	return nil
}

// writePrivate writes a file readable by this user only, whatever it was
// before.
func writePrivate(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
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
