// Command benchload loads N keys (16-byte keys, 32-byte values by default)
// into a server with pipelined SETs and prints the server's RSS growth per
// key, read from /proc/PID/status. Used by `make bench`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n * 1024
		}
	}
	return -1
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	pid := flag.Int("pid", 0, "server pid (for RSS)")
	n := flag.Int("n", 1000000, "keys to load")
	vsize := flag.Int("value", 32, "value size in bytes")
	label := flag.String("label", "server", "label for the output line")
	flag.Parse()
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	rd := bufio.NewReaderSize(c, 1<<16)
	wr := bufio.NewWriterSize(c, 1<<16)
	before := rss(*pid)
	val := strings.Repeat("x", *vsize)
	start := time.Now()
	const batch = 1000
	for i := 0; i < *n; i += batch {
		m := batch
		if *n-i < m {
			m = *n - i
		}
		for j := 0; j < m; j++ {
			key := fmt.Sprintf("key:%012d", i+j)
			fmt.Fprintf(wr, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(val), val)
		}
		if err := wr.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for j := 0; j < m; j++ {
			line, err := rd.ReadString('\n')
			if err != nil || line != "+OK\r\n" {
				fmt.Fprintf(os.Stderr, "unexpected reply %q %v\n", line, err)
				os.Exit(1)
			}
		}
	}
	el := time.Since(start)
	// Let the server's allocator settle before reading RSS.
	time.Sleep(2 * time.Second)
	after := rss(*pid)
	fmt.Printf("%-14s loaded %d keys in %.2fs (%.0f keys/s); RSS %d MB -> %d MB; %.1f bytes/key\n",
		*label, *n, el.Seconds(), float64(*n)/el.Seconds(), before>>20, after>>20, float64(after-before)/float64(*n))
}
