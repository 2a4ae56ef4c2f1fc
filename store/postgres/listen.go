package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// reconnectWait is how long a lost listener waits before connecting again.
const reconnectWait = 500 * time.Millisecond

// Commits returns a channel that receives a value soon after any node
// commits a write: a dedicated connection LISTENs on rolecall_commits, which
// every committing write transaction NOTIFYs. A lost connection is opened
// again, and a wake-up is sent after each (re)connection, since commits made
// meanwhile were not announced. The listener stops when ctx ends or the
// engine closes; the channel is never closed.
func (e *Engine) Commits(ctx context.Context) <-chan struct{} {
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(e.ctx, cancel)
	go func() {
		defer stop()
		defer cancel()
		for ctx.Err() == nil {
			e.listen(ctx, wake)
			select {
			case <-ctx.Done():
			case <-time.After(reconnectWait):
			}
		}
	}()
	return wake
}

// listen connects, listens and forwards notifications until the connection
// fails or ctx ends.
func (e *Engine) listen(ctx context.Context, wake chan<- struct{}) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	conn, err := pgx.ConnectConfig(ctx, e.listenCfg)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return
	}
	signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		signal()
	}
}
