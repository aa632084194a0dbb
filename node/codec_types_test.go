package node

// sampleObjects returns entries of every non-string type (filled in as the
// type families land).
func sampleObjects() []*Entry { return nil }
