// An HTTP server and 20 concurrent clients, a UDP round trip and a
// refused connection over the loopback, with Go's runtime poller (epoll,
// non-blocking connect, SO_ERROR).
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("n"))
	})
	go http.Serve(ln, mux)
	url := "http://" + ln.Addr().String()
	var wg sync.WaitGroup
	results := make([]string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/hello?n=%d", url, i))
			if err != nil {
				results[i] = err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = string(b)
		}(i)
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	// UDP round trip.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	c, _ := net.Dial("udp", pc.LocalAddr().String())
	c.Write([]byte("ping"))
	buf := make([]byte, 10)
	n, from, _ := pc.ReadFrom(buf)
	fmt.Println(string(buf[:n]), from.(*net.UDPAddr).IP)
	// Refused connection.
	_, err = net.Dial("tcp", "127.0.0.1:1")
	fmt.Println("refused:", err != nil)
}
