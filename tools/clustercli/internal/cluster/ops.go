package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SetSlot runs CLUSTER SETSLOT slot <state> <id> on n (state is IMPORTING,
// MIGRATING or NODE).
func (n *Node) SetSlot(ctx context.Context, slot int, state, id string) error {
	err := n.Client.Do(ctx, "CLUSTER", "SETSLOT", slot, state, id).Err()
	if err != nil {
		return fmt.Errorf("%s: CLUSTER SETSLOT %d %s %s: %w", n.Addr(), slot, state, id, err)
	}
	return nil
}

// SetSlotStable runs CLUSTER SETSLOT slot STABLE on n.
func (n *Node) SetSlotStable(ctx context.Context, slot int) error {
	if err := n.Client.Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE").Err(); err != nil {
		return fmt.Errorf("%s: CLUSTER SETSLOT %d STABLE: %w", n.Addr(), slot, err)
	}
	return nil
}

// CountKeysInSlot runs CLUSTER COUNTKEYSINSLOT.
func (n *Node) CountKeysInSlot(ctx context.Context, slot int) (int64, error) {
	v, err := n.Client.ClusterCountKeysInSlot(ctx, slot).Result()
	if err != nil {
		return 0, fmt.Errorf("%s: CLUSTER COUNTKEYSINSLOT %d: %w", n.Addr(), slot, err)
	}
	return v, nil
}

// GetKeysInSlot runs CLUSTER GETKEYSINSLOT slot count.
func (n *Node) GetKeysInSlot(ctx context.Context, slot, count int) ([]string, error) {
	v, err := n.Client.ClusterGetKeysInSlot(ctx, slot, count).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: CLUSTER GETKEYSINSLOT %d %d: %w", n.Addr(), slot, count, err)
	}
	return v, nil
}

// AddSlots runs CLUSTER ADDSLOTS with every slot of set.
func (n *Node) AddSlots(ctx context.Context, set *SlotSet) error {
	list := set.List()
	if len(list) == 0 {
		return nil
	}
	args := make([]any, 0, len(list)+2)
	args = append(args, "CLUSTER", "ADDSLOTS")
	for _, s := range list {
		args = append(args, s)
	}
	if err := n.Client.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("%s: CLUSTER ADDSLOTS: %w", n.Addr(), err)
	}
	return nil
}

// SlotOwner asks n, through CLUSTER SLOTS, which node id serves slot. It
// returns "" when the slot is unassigned in n's view. (Nodes that omit ids
// in CLUSTER SLOTS are reported as "ip:port".)
func (n *Node) SlotOwner(ctx context.Context, slot int) (string, error) {
	res, err := n.Client.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER SLOTS: %w", n.Addr(), err)
	}
	for _, r := range res {
		if slot < r.Start || slot > r.End || len(r.Nodes) == 0 {
			continue
		}
		if r.Nodes[0].ID != "" {
			return r.Nodes[0].ID, nil
		}
		return r.Nodes[0].Addr, nil
	}
	return "", nil
}

// SetSlotOwner makes n the owner of slot inside one MULTI/EXEC:
// DELSLOTS (errors ignored), ADDSLOTS, optionally SETSLOT STABLE, and
// BUMPEPOCH, like redis-cli's clusterManagerSetSlotOwner. Only an ADDSLOTS
// failure is an error.
func (n *Node) SetSlotOwner(ctx context.Context, slot int, clear bool) error {
	cmds, err := n.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "CLUSTER", "DELSLOTS", slot)
		p.Do(ctx, "CLUSTER", "ADDSLOTS", slot)
		if clear {
			p.Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE")
		}
		p.Do(ctx, "CLUSTER", "BUMPEPOCH")
		return nil
	})
	if len(cmds) >= 2 {
		if e := cmds[1].Err(); e != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTS %d: %w", n.Addr(), slot, e)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: MULTI/EXEC to take slot %d: %w", n.Addr(), slot, err)
	}
	return nil
}

// DelSlot runs CLUSTER DELSLOTS slot; an "unassigned" error is ignored when
// the node indeed sees the slot unassigned.
func (n *Node) DelSlot(ctx context.Context, slot int) error {
	err := n.Client.Do(ctx, "CLUSTER", "DELSLOTS", slot).Err()
	if err == nil {
		return nil
	}
	if owner, oerr := n.SlotOwner(ctx, slot); oerr == nil && owner == "" {
		return nil
	}
	return fmt.Errorf("%s: CLUSTER DELSLOTS %d: %w", n.Addr(), slot, err)
}

// IsRedisError reports whether err is a reply error from the server (as
// opposed to a network or timeout error).
func IsRedisError(err error) bool {
	var re redis.Error
	return err != nil && errors.As(err, &re)
}

// ErrorPrefix returns the first word of a Redis error reply ("BUSYKEY",
// "ERR", "IOERR", ...), or "" for non-reply errors.
func ErrorPrefix(err error) string {
	var re redis.Error
	if err == nil || !errors.As(err, &re) {
		return ""
	}
	w, _, _ := strings.Cut(re.Error(), " ")
	return w
}

// IsBusyKey reports whether err is MIGRATE's BUSYKEY failure, which Redis
// reports wrapped: "ERR Target instance replied with error: BUSYKEY ...".
func IsBusyKey(err error) bool {
	return err != nil && IsRedisError(err) && strings.Contains(err.Error(), "BUSYKEY")
}
