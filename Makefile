# The two commands of the README. Both install what is missing first
# (scripts/setup.sh: Debian packages by name), so they work on a fresh Debian 12.
.PHONY: run test build setup clean bench

VAR ?= var

setup:
	bash scripts/setup.sh

build: setup
	@[ -f build/build.ninja ] || meson setup build
	meson compile -C build

# Initialises ./var (config, keys, store) once, then runs the daemon in the foreground.
run: build
	@[ -f $(VAR)/homing.conf ] || ./build/homing init $(VAR)
	./build/homing -c $(VAR)/homing.conf serve

test:
	bash scripts/test.sh

bench: build
	bash bench/run-all

clean:
	rm -rf build build-asan build-fuzz
