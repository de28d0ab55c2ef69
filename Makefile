# tagd — see README.md. Every target works on a box where ./scripts/dev
# (or the README's commands) has installed Go.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s
BENCHTIME ?= 1s

.PHONY: all build run test bench fuzz fmt vet clean

all: test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/tagd ./cmd/tagd

# DATA is the demo's data directory (the service uses /var/lib/tagd).
DATA ?= $(CURDIR)/.data

# Runs the appliance on demo data: kiosk and API on http://127.0.0.1:8080/,
# the Response API over HTTPS on :8443 with a self-signed certificate.
run: build
	./bin/tagd run --demo --data '$(DATA)'

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: vet fmt
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./sun/ ./store/ ./httpapi/ ./cmd/tagd/

# Each fuzz target runs for FUZZTIME; what it finds is kept in the
# package's testdata/fuzz/ (see scripts/fuzz).
fuzz:
	./scripts/fuzz $(FUZZTIME)

clean:
	rm -rf bin
