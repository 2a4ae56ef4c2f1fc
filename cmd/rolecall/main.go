// Command rolecall is the Rolecall server: SCIM 2.0 provisioning with role
// mapping, in one binary over one embedded bbolt file.
//
// This package is the composition root: it parses configuration, opens the
// store, wires the SCIM surface, the Management API and the middleware, and
// serves. Nothing imports it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
