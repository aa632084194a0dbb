package integration

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if err := Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
