# The two commands of the README. Both install what is missing first
# (scripts/setup.sh: Debian packages by name), so they work on a fresh Debian 12.
.PHONY: run test build setup clean bench

VAR ?= var
HOMING = ./build/src/homing

setup:
	bash scripts/setup.sh

build: setup
	@[ -f build/build.ninja ] || meson setup build
	meson compile -C build

# Initialises ./var once (config, keys, store, and a demo message so there is an
# example pixel URL to try), then runs the daemon in the foreground.
run: build
	@if [ ! -f $(VAR)/homing.conf ]; then \
	  $(HOMING) init $(VAR) && \
	  $(HOMING) -c $(VAR)/homing.conf message add --subject "Welcome to homing" \
	    --from you@example.org --to reader@example.net --link https://example.org/ >/dev/null; \
	fi
	$(HOMING) -c $(VAR)/homing.conf serve

test:
	bash scripts/test.sh

bench: build
	bench/pixel

clean:
	rm -rf build build-asan build-fuzz
