// Package migrate owns moving keys between nodes: the connection cache and
// pipelined RESTORE exchange behind MIGRATE (Pool, Conn), and the slot
// migration state machine used by the whole-slot fast path.
//
// The package knows nothing of the keyspace: callers hand it encoded DUMP
// payloads and act on its per-key results (delete at the source only what
// the target acknowledged).
package migrate
