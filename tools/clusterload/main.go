// Command clusterload loads or verifies N keys (key:<i>, values of a given
// size) in a cluster through go-redis's ClusterClient, spreading them over
// every slot. Used by `make bench` (scripts/bench-reshard.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "any cluster node")
	n := flag.Int("n", 300000, "keys")
	size := flag.Int("value", 100, "value size in bytes")
	verify := flag.Bool("verify", false, "check every key instead of writing")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{*addr}, MaxRedirects: 16})
	defer cc.Close()
	pad := strings.Repeat("v", *size)
	val := func(i int) string { s := strconv.Itoa(i) + ":" + pad; return s[:*size] }
	start := time.Now()
	bad := 0
	for i := 0; i < *n; i += 2000 {
		p := cc.Pipeline()
		var gets []*redis.StringCmd
		for j := i; j < i+2000 && j < *n; j++ {
			k := "key:" + strconv.Itoa(j)
			if *verify {
				gets = append(gets, p.Get(ctx, k))
			} else {
				p.Set(ctx, k, val(j), 0)
			}
		}
		if _, err := p.Exec(ctx); err != nil && !*verify {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		for j, g := range gets {
			if v, err := g.Result(); err != nil || v != val(i+j) {
				bad++
			}
		}
	}
	if *verify {
		fmt.Printf("verified %d keys: %d missing or wrong\n", *n, bad)
		if bad > 0 {
			os.Exit(1)
		}
		return
	}
	fmt.Printf("loaded %d keys of %d bytes in %.1fs\n", *n, *size, time.Since(start).Seconds())
}
