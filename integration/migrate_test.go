package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMigrateCommand covers MIGRATE between two standalone slotkv nodes:
// single key, KEYS form, COPY, REPLACE, BUSYKEY, NOKEY, TTL carried over,
// and a dead target leaving the key at the source.
func TestMigrateCommand(t *testing.T) {
	src, dst := StartNode(t, Options{}), StartNode(t, Options{})
	ctx := Ctx(t, 30*time.Second)
	sc, dc := src.Client(), dst.Client()
	host, port := dst.IP, strconv.Itoa(dst.Port)
	sc.Set(ctx, "a", "1", 0)
	sc.Set(ctx, "t", "ttl", time.Hour)
	sc.RPush(ctx, "l", "x", "y")

	do := func(args ...interface{}) (string, error) {
		v, err := sc.Do(ctx, args...).Result()
		if err != nil {
			return "", err
		}
		return v.(string), nil
	}
	if v, err := do("MIGRATE", host, port, "a", "0", "1000"); err != nil || v != "OK" {
		t.Fatalf("MIGRATE a: %v %v", v, err)
	}
	if n, _ := sc.Exists(ctx, "a").Result(); n != 0 {
		t.Fatal("key still at source after MIGRATE")
	}
	if v, _ := dc.Get(ctx, "a").Result(); v != "1" {
		t.Fatalf("target a = %q", v)
	}
	if v, err := do("MIGRATE", host, port, "", "0", "1000", "KEYS", "t", "l", "missing"); err != nil || v != "OK" {
		t.Fatalf("MIGRATE KEYS: %v %v", v, err)
	}
	if ttl, _ := dc.TTL(ctx, "t").Result(); ttl < 59*time.Minute {
		t.Fatalf("TTL not carried: %v", ttl)
	}
	if v, _ := dc.LRange(ctx, "l", 0, -1).Result(); strings.Join(v, ",") != "x,y" {
		t.Fatalf("list on target = %v", v)
	}
	if v, err := do("MIGRATE", host, port, "nothere", "0", "1000"); err != nil || v != "NOKEY" {
		t.Fatalf("MIGRATE missing: %v %v", v, err)
	}
	// BUSYKEY without REPLACE, with COPY the source keeps the key.
	sc.Set(ctx, "a", "2", 0)
	_, err := do("MIGRATE", host, port, "a", "0", "1000", "COPY")
	if err == nil || err.Error() != "ERR Target instance replied with error: BUSYKEY Target key name already exists." {
		t.Fatalf("BUSYKEY: %v", err)
	}
	if v, err := do("MIGRATE", host, port, "a", "0", "1000", "COPY", "REPLACE"); err != nil || v != "OK" {
		t.Fatalf("COPY REPLACE: %v %v", v, err)
	}
	if v, _ := sc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("COPY removed the source key")
	}
	if v, _ := dc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("REPLACE did not replace")
	}
	// Syntax errors.
	if _, err := do("MIGRATE", host, port, "a", "0", "1000", "KEYS", "b"); err == nil || !strings.Contains(err.Error(), "the key argument must be set to the empty string") {
		t.Fatalf("KEYS with key: %v", err)
	}
	if _, err := do("MIGRATE", host, port, "a", "0", "1000", "BOGUS"); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("bogus option: %v", err)
	}
	// A dead target: IOERR and the key stays.
	dead := strconv.Itoa(FreePort(t, "127.0.0.1"))
	_, err = do("MIGRATE", "127.0.0.1", dead, "a", "0", "300")
	if err == nil || !strings.HasPrefix(err.Error(), "IOERR") {
		t.Fatalf("dead target: %v", err)
	}
	if v, _ := sc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("key lost after failed MIGRATE")
	}
}
