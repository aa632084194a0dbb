// Package clusterbus owns the cluster layer of a slotkv node: the node table
// (ids, addresses, roles, flags), slot ownership with config epochs,
// migration markers (MIGRATING/IMPORTING), failure detection (PFAIL, failure
// reports, FAIL), the cluster state (ok/fail), the nodes.conf file, and the
// gossip bus that carries all of it between nodes.
//
// The bus runs on hashicorp/memberlist (TCP+UDP on the bus port, normally
// client port + 10000). memberlist provides membership discovery (CLUSTER
// MEET is a memberlist Join), encryption (cluster-bus-secret), push/pull
// anti-entropy and gossip broadcasts. On top of it clusterbus sends its own
// small messages (see wire.go): heartbeats (PING/PONG with failure reports),
// node records (a node's own slot claims as compact ranges, pushed
// point-to-point and broadcast when small), record requests and FAIL.
//
// The per-command hot path never touches the bus: Bus.Table returns the
// current immutable *redirect.Table (an atomic pointer), rebuilt and swapped
// whenever ownership, migration markers, the cluster state or roles change.
//
// Everything else (CLUSTER subcommands, renderers for NODES/INFO/SLOTS/...)
// goes through methods of Bus that take one internal mutex; those are
// control-path operations.
package clusterbus
