package integration

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// psStep is a command and the number of replies it produces on its own
// connection (SUBSCRIBE a b → 2).
type psStep struct {
	args    []string
	replies int
}

func ps(replies int, args ...string) psStep { return psStep{args: args, replies: replies} }

// diffPubSub runs steps on one connection to each server and compares the
// replies byte for byte.
func diffPubSub(t *testing.T, sk, rs *Node, proto int, steps []psStep) {
	t.Helper()
	a, b := DialRaw(t, sk.Addr()), DialRaw(t, rs.Addr())
	if proto == 3 {
		a.Do("HELLO", "3")
		b.Do("HELLO", "3")
	}
	for i, st := range steps {
		var outs [2]string
		for j, r := range []*Raw{a, b} {
			first, err := r.Do(st.args...)
			if err != nil {
				t.Fatalf("step %d %q: %v", i, st.args, err)
			}
			out := first
			for k := 1; k < st.replies; k++ {
				more, err := r.ReadReply()
				if err != nil {
					t.Fatalf("step %d %q: %v", i, st.args, err)
				}
				out += more
			}
			outs[j] = out
		}
		if outs[0] != outs[1] {
			t.Errorf("step %d %q (RESP%d):\n slotkv: %q\n  redis: %q", i, st.args, proto, outs[0], outs[1])
		}
	}
}

func TestPubSubDifferential(t *testing.T) {
	sk, rs := DiffPair(t)
	common := []psStep{
		ps(1, "UNSUBSCRIBE"), ps(1, "PUNSUBSCRIBE"), ps(1, "SUNSUBSCRIBE"),
		ps(2, "UNSUBSCRIBE", "a", "b"),
		ps(1, "PUBSUB", "NUMPAT"), ps(1, "PUBSUB", "NUMSUB", "a", "b"), ps(1, "PUBSUB", "NUMSUB"),
		ps(1, "PUBSUB", "CHANNELS"), ps(1, "PUBSUB", "CHANNELS", "a", "b"), ps(1, "PUBSUB", "SHARDCHANNELS"),
		ps(1, "PUBSUB", "SHARDNUMSUB", "s"), ps(1, "PUBSUB", "HELP"), ps(1, "PUBSUB", "NOPE"),
		ps(1, "PUBLISH", "a", "m"), ps(1, "SPUBLISH", "a", "m"), ps(1, "PUBLISH", "a"), ps(1, "SUBSCRIBE"),
		ps(3, "SUBSCRIBE", "a", "b", "a"),
		ps(1, "PSUBSCRIBE", "h*llo"),
		ps(1, "SSUBSCRIBE", "s1"),
		ps(1, "SUBSCRIBE", "c"),
		ps(1, "UNSUBSCRIBE", "a"),
	}
	resp2 := append(append([]psStep{}, common...),
		ps(1, "GET", "x"), ps(1, "PING"), ps(1, "PING", "hi"), ps(1, "PUBSUB", "NUMPAT"), ps(1, "PUBLISH", "c", "x"),
		ps(1, "PUNSUBSCRIBE"), ps(1, "SUNSUBSCRIBE"), ps(1, "SUNSUBSCRIBE", "x"), ps(1, "UNSUBSCRIBE", "b"), ps(1, "UNSUBSCRIBE", "c"), ps(1, "PING"))
	resp3 := append(append([]psStep{}, common...),
		ps(1, "GET", "x"), ps(1, "PING"),
		// own subscription: the push comes before PUBLISH's reply
		ps(2, "PUBLISH", "c", "self"), ps(2, "PUBLISH", "hello", "p"), ps(1, "PUBSUB", "NUMSUB", "c"),
		ps(2, "SPUBLISH", "s1", "sm"),
		ps(1, "PUNSUBSCRIBE"), ps(1, "SUNSUBSCRIBE"), ps(1, "UNSUBSCRIBE", "b"), ps(1, "UNSUBSCRIBE", "c"), ps(1, "RESET"))
	diffPubSub(t, sk, rs, 2, resp2)
	diffPubSub(t, sk, rs, 3, resp3)
}

// TestPubSubGoRedis: go-redis subscribers (RESP2 and RESP3) receive channel,
// pattern and shard messages published by other clients.
func TestPubSubGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 30*time.Second)
	pub := n.NewClient(t, 2)
	for _, proto := range []int{2, 3} {
		c := n.NewClient(t, proto)
		sub := c.Subscribe(ctx, "news")
		if err := sub.PSubscribe(ctx, "ne*"); err != nil {
			t.Fatal(err)
		}
		ssub := c.SSubscribe(ctx, "shard-news")
		Eventually(t, 5*time.Second, "subscriptions registered", func() bool {
			m, _ := pub.PubSubNumSub(ctx, "news").Result()
			s, _ := pub.PubSubShardNumSub(ctx, "shard-news").Result()
			return m["news"] == 1 && s["shard-news"] == 1
		})
		if got, err := pub.Publish(ctx, "news", "hello").Result(); err != nil || got != 2 {
			t.Fatalf("RESP%d PUBLISH receivers %d %v", proto, got, err)
		}
		if got, err := pub.SPublish(ctx, "shard-news", "sharded").Result(); err != nil || got != 1 {
			t.Fatalf("RESP%d SPUBLISH receivers %d %v", proto, got, err)
		}
		seen := map[string]bool{}
		for len(seen) < 2 {
			m, err := sub.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
		}
		if !seen["|news|hello"] || !seen["ne*|news|hello"] {
			t.Fatalf("RESP%d got %v", proto, seen)
		}
		m, err := ssub.ReceiveMessage(ctx)
		if err != nil || m.Channel != "shard-news" || m.Payload != "sharded" {
			t.Fatalf("RESP%d shard message %+v %v", proto, m, err)
		}
		sub.Close()
		ssub.Close()
		Eventually(t, 5*time.Second, "unsubscribed on close", func() bool {
			m, _ := pub.PubSubNumSub(ctx, "news").Result()
			p, _ := pub.PubSubNumPat(ctx).Result()
			return m["news"] == 0 && p == 0
		})
	}
}

// TestPubSubSlowSubscriber: a subscriber that stops reading while a
// publisher floods does not slow the publisher nor a healthy subscriber;
// it is disconnected once it passes client-output-buffer-limit pubsub.
func TestPubSubSlowSubscriber(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--client-output-buffer-limit", "pubsub 4mb 1mb 2"}})
	ctx := Ctx(t, 60*time.Second)
	// slow: subscribes, then never reads (small receive buffer)
	d := net.Dialer{Control: nil}
	raw, err := d.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.(*net.TCPConn).SetReadBuffer(8 << 10)
	fmt.Fprintf(raw, "*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nflood\r\n")
	line, err := bufio.NewReader(raw).ReadString('\n')
	if err != nil || line != "*3\r\n" {
		t.Fatalf("subscribe: %q %v", line, err)
	}
	// healthy subscriber, counting what it gets
	healthy := n.NewClient(t, 3).Subscribe(ctx, "flood")
	defer healthy.Close()
	if _, err := healthy.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	var received atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ch := healthy.Channel(redis.WithChannelSize(1 << 16))
		for range ch {
			received.Add(1)
		}
	}()
	pub := n.NewClient(t, 2)
	msg := strings.Repeat("x", 32<<10)
	var maxLat time.Duration
	published := 0
	disconnected := false
	start := time.Now()
	for published < 4000 && time.Since(start) < 30*time.Second {
		t0 := time.Now()
		got, err := pub.Publish(ctx, "flood", msg).Result()
		if err != nil {
			t.Fatal(err)
		}
		if lat := time.Since(t0); lat > maxLat {
			maxLat = lat
		}
		published++
		if got == 1 {
			disconnected = true
			break
		}
	}
	elapsed := time.Since(start)
	t0 := time.Now()
	if !disconnected {
		t.Fatalf("slow subscriber still connected after %d messages (%d MiB)", published, published*len(msg)>>20)
	}
	t.Logf("slow subscriber dropped after %d x 32KiB messages in %v; max PUBLISH latency %v", published, elapsed, maxLat)
	if maxLat > time.Second {
		t.Fatalf("publisher was blocked: max PUBLISH latency %v", maxLat)
	}
	// the healthy subscriber got every message
	Eventually(t, 20*time.Second, "healthy subscriber caught up", func() bool { return received.Load() >= int64(published) })
	t.Logf("healthy caught up after %v", time.Since(t0))
	// the server closed the slow one: only the healthy subscriber is left
	Eventually(t, 10*time.Second, "slow subscriber disconnected", func() bool {
		list, err := pub.ClientList(ctx).Result()
		return err == nil && strings.Count(list, "flags=P") == 1
	})
	healthy.Close()
	wg.Wait()
}

// TestPubSubRedisCLI: redis-cli's subscribe mode prints what a publisher
// sends.
func TestPubSubRedisCLI(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 30*time.Second)
	pub := n.NewClient(t, 2)
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli not found")
	}
	cmd := exec.CommandContext(ctx, bin, "-h", n.IP, "-p", fmt.Sprint(n.Port), "SUBSCRIBE", "cli-ch")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	Eventually(t, 10*time.Second, "redis-cli subscribed", func() bool {
		m, _ := pub.PubSubNumSub(ctx, "cli-ch").Result()
		return m["cli-ch"] == 1
	})
	if got, _ := pub.Publish(ctx, "cli-ch", "from-go").Result(); got != 1 {
		t.Fatalf("receivers %d", got)
	}
	var seen []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("redis-cli exited; output %q", seen)
			}
			seen = append(seen, l)
			if strings.Join(seen, "\n") == "subscribe\ncli-ch\n1\nmessage\ncli-ch\nfrom-go" {
				return
			}
		case <-deadline:
			t.Fatalf("redis-cli output %q", seen)
		}
	}
}
