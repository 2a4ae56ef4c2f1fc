package pgtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// What a benchmark's wall time hides on a machine that PostgreSQL shares
// with the client: how much CPU each side spent. Both report seconds.

// OwnCPU is the CPU time this process has used.
func OwnCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// ServerCPU returns a function giving the CPU time that the processes of
// the PostgreSQL server at dsn (its backends and background workers) have
// used, or -1 when it cannot tell (a server on another machine).
func ServerCPU(tb testing.TB, dsn string) func() float64 {
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return func() float64 {
		rows, err := conn.Query(context.Background(), "SELECT pid FROM pg_stat_activity")
		if err != nil {
			tb.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			tb.Fatal(err)
		}
		var ticks int64
		for _, pid := range pids {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return -1
			}
			// Fields after the command's closing parenthesis: utime and
			// stime are the 12th and 13th.
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			for _, s := range f[11:13] {
				v, _ := strconv.ParseInt(s, 10, 64)
				ticks += v
			}
		}
		return float64(ticks) / 100 // USER_HZ
	}
}
