# slotkv — see README.md. Targets: build, test, cluster, bench, fuzz.
GO        ?= go
BIN       := bin
PKGS      := ./...
FUZZTIME  ?= 10s
export GOFLAGS := -mod=mod

.PHONY: all build test unit integration fuzz fuzz-short cluster bench deps vet clean

all: build

build:
	$(GO) build -o $(BIN)/slotkv-server ./cmd/slotkv-server
	$(GO) build -o $(BIN)/clustercli ./tools/clustercli

# Installs what the tests need when it is missing (Debian packages).
deps:
	@bash scripts/deps.sh

vet:
	$(GO) vet $(PKGS)

# The whole suite: unit tests, integration tests against real processes,
# and a short run of every fuzz target. Stays under 10 minutes on 2 cores.
test: deps build vet
	$(GO) test -count=1 -timeout 12m -p 2 $(PKGS)
	@$(MAKE) --no-print-directory fuzz-short

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

integration: build
	$(GO) test -count=1 -timeout 12m ./integration/...

fuzz-short:
	@FUZZTIME=5s bash scripts/fuzz.sh

fuzz:
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# A local 6-node cluster (3 masters + 3 replicas) on 127.0.0.1:7000-7005,
# in the foreground; Ctrl-C stops it cleanly.
cluster: build
	@bash scripts/cluster.sh

# Side by side with redis-server 7 on this machine: throughput and memory
# (bench.sh), resharding (bench-reshard.sh and clustercli's benchmark),
# failover and replication (bench-failover.sh), persistence
# (bench-persist.sh), the 256 MB LRU cache workload (bench-cache.sh).
bench: build deps
	@bash scripts/bench.sh
	@bash scripts/bench-reshard.sh
	$(GO) test ./integration -run '^$$' -bench ClustercliReshard -benchtime 1x -v
	@bash scripts/bench-failover.sh
	@bash scripts/bench-persist.sh
	@bash scripts/bench-cache.sh

clean:
	rm -rf $(BIN)
