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
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/tagd ./cmd/tagd

# Until the appliance lands, run checks a demo SUN URL (AN12196's example,
# factory all-zero keys) and prints the verdict.
run: build
	./bin/tagd verify --meta-key 00000000000000000000000000000000 --file-key 00000000000000000000000000000000 \
		--param picc=e,mac=c 'https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086'

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: vet fmt
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./sun/

# Each fuzz target runs for FUZZTIME; what it finds is kept in the
# package's testdata/fuzz/ (see scripts/fuzz).
fuzz:
	./scripts/fuzz $(FUZZTIME)

clean:
	rm -rf bin
