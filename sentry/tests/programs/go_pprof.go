// A CPU profile of a busy loop with runtime/pprof: Go samples through
// timer_create on each thread's CPU clock (SIGEV_THREAD_ID, SIGPROF),
// falling back to setitimer(ITIMER_PROF). The profile names only the
// functions that were sampled, so finding the loop's name in it shows
// the CPU-time timers fired.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func spin(n int) int {
	x := 0
	for i := 0; i < n; i++ {
		x += i * i
	}
	return x
}

func main() {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	total := 0
	start := time.Now()
	for time.Since(start) < 400*time.Millisecond {
		total += spin(1000000)
	}
	pprof.StopCPUProfile()
	r, err := gzip.NewReader(&buf)
	if err != nil {
		fmt.Println("gzip:", err)
		os.Exit(1)
	}
	raw, _ := io.ReadAll(r)
	fmt.Println("profile samples the loop:", bytes.Contains(raw, []byte("main.spin")), total != 0)
}
