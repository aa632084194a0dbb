package main

import "testing"

func TestNextProcs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cur, max  int
		own, idle float64
		want      int
	}{
		{"benchmark client takes the other CPU", 1, 2, 0.97, 0.03, 1},
		{"busy with a CPU to spare", 1, 2, 0.95, 0.9, 2},
		{"light load", 1, 2, 0.1, 1.9, 1},
		{"at the cap", 2, 2, 1.9, 0.1, 2},
		{"2 Ps, client shares the machine", 2, 2, 1.1, 0.05, 1},
		{"2 Ps, machine idle", 2, 2, 0.3, 1.7, 2},
		{"2 Ps used, spare CPU", 2, 8, 1.9, 5.5, 4},
		{"8 Ps used, 1.4 CPUs idle", 8, 64, 7.9, 1.4, 9},
		{"16 Ps used, big idle machine", 16, 64, 15.9, 40, 32},
		{"near the cap", 60, 64, 59.9, 4, 64},
		{"other processes saturate the machine", 4, 8, 0.5, 0.2, 3},
		{"never below 1", 1, 8, 0, 0, 1},
	} {
		if got := nextProcs(tc.cur, tc.max, tc.own, tc.idle); got != tc.want {
			t.Errorf("%s: nextProcs(%d, %d, %.2f, %.2f) = %d, want %d", tc.name, tc.cur, tc.max, tc.own, tc.idle, got, tc.want)
		}
	}
}

func TestMachineIdle(t *testing.T) {
	a, ok := machineIdle()
	if !ok {
		t.Skip("no /proc/stat")
	}
	if b, _ := machineIdle(); b < a {
		t.Fatalf("idle went back: %v -> %v", a, b)
	}
	if ownCPU() <= 0 {
		t.Fatal("ownCPU = 0")
	}
}
