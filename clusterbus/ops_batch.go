package clusterbus

// SetSlots applies several CLUSTER SETSLOT actions (each args = slot action
// [node-id]) under one lock and one nodes.conf save; it stops at the first
// error, keeping the actions before it. The whole-slot migration path uses
// it to open and hand over hundreds of slots per round trip.
func (b *Bus) SetSlots(actions [][]string) error {
	var err error
	b.locked(func(s *state) {
		for _, a := range actions {
			if err = s.setSlot(a); err != nil {
				return
			}
		}
	})
	return err
}
