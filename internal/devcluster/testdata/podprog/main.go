// Command podprog is the workload of the devcluster tests: an HTTP server
// on the pod IP that reports what the pod runner gave it (a ConfigMap file,
// a Secret file, a projected token, its environment and process id), whose
// readiness depends on those files, and whose liveness can be switched off.
// It notes every start and every SIGTERM in its data folder (a PVC).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "", "address to serve on")
	config := flag.String("config", "", "ConfigMap file")
	secret := flag.String("secret", "", "Secret file")
	token := flag.String("token", "", "projected token file")
	data := flag.String("data", "", "persistent data folder")
	flag.Parse()

	note := func(line string) {
		f, err := os.OpenFile(filepath.Join(*data, "events.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "podprog:", err)
			os.Exit(3)
		}
		fmt.Fprintln(f, line)
		_ = f.Close()
	}
	note("start " + strconv.Itoa(os.Getpid()))

	var unhealthy atomic.Bool
	file := func(path string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			b, err := os.ReadFile(path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = w.Write(b)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/config", file(*config))
	mux.HandleFunc("/secret", file(*secret))
	mux.HandleFunc("/token", file(*token))
	mux.HandleFunc("/pid", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
	})
	mux.HandleFunc("/cwd", func(w http.ResponseWriter, _ *http.Request) {
		wd, _ := os.Getwd()
		fmt.Fprint(w, wd)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		for _, p := range []string{*config, *secret, *token} {
			if _, err := os.Stat(p); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if unhealthy.Load() {
			http.Error(w, "told to fail", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/break", func(w http.ResponseWriter, _ *http.Request) {
		unhealthy.Store(true)
		fmt.Fprint(w, "liveness will fail")
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		note("sigterm " + strconv.Itoa(os.Getpid()))
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "podprog:", err)
		os.Exit(1)
	}
}
