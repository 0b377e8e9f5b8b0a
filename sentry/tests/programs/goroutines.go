package main

import (
	"fmt"
	"runtime"
	"sync"
)

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	ch := make(chan int, 16)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := 0
			for j := 0; j < 10000; j++ {
				s += j % (i + 1)
			}
			mu.Lock()
			total += s
			mu.Unlock()
			ch <- i
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	fmt.Println("goroutines", n, "total", total, "procs", runtime.GOMAXPROCS(0))
}
