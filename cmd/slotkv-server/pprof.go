package main

import (
	"log"
	"net/http"
	_ "net/http/pprof" // served only when SLOTKV_PPROF is set
	"os"
)

// SLOTKV_PPROF=127.0.0.1:6060 serves Go's profiling endpoints
// (/debug/pprof/...) for diagnosing a running node; unset, nothing listens.
func init() {
	addr := os.Getenv("SLOTKV_PPROF")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			log.Printf("SLOTKV_PPROF: %v", err)
		}
	}()
}
