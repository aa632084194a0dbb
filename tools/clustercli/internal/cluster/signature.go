package cluster

import (
	"sort"
	"strings"
)

// ConfigSignature computes redis-cli's configuration signature of one node's
// CLUSTER NODES view: for every node that has slots, "id:slot-tokens" with
// the tokens sorted as strings, all such entries sorted and joined by '|'.
// Migration markers are ignored. Two nodes agree about the slot configuration
// when their signatures are equal (clusterManagerIsConfigConsistent).
func ConfigSignature(lines []*NodeLine) string {
	var cfgs []string
	for _, l := range lines {
		if len(l.SlotTokens) == 0 {
			continue
		}
		toks := append([]string(nil), l.SlotTokens...)
		sort.Strings(toks)
		cfgs = append(cfgs, l.ID+":"+strings.Join(toks, ","))
	}
	sort.Strings(cfgs)
	return strings.Join(cfgs, "|")
}
