# The two commands of the README. Both install what is missing first
# (scripts/setup.sh: Debian packages by name), so they work on a fresh Debian 12.
.PHONY: run test build setup clean bench install

VAR ?= var
HOMING = ./build/src/homing

setup:
	bash scripts/setup.sh

build: setup
	@[ -f build/build.ninja ] || meson setup build
	meson compile -C build

# Initialises ./var once (config, keys, store, and a demo message so there is an
# example pixel URL to try), prints the dashboard's address with a one-time
# sign-in link, then runs the daemon in the foreground.
run: build
	@if [ ! -f $(VAR)/homing.conf ]; then \
	  $(HOMING) init $(VAR) && \
	  $(HOMING) -c $(VAR)/homing.conf message add --subject "Welcome to homing" \
	    --from you@example.org --to reader@example.net --link https://example.org/ >/dev/null; \
	fi
	@$(HOMING) -c $(VAR)/homing.conf ui-link
	$(HOMING) -c $(VAR)/homing.conf serve

test:
	bash scripts/test.sh

# FHS install: /usr/bin/homing, /usr/share/homing, /etc/homing/homing.conf,
# /var/lib/homing, man pages, completion and the systemd unit (docs/operations.md).
# Its own build directory, configured for PREFIX and without the tests; set
# DESTDIR to stage the files somewhere else.
PREFIX ?= /usr
INSTALL_BUILD ?= build-install
install: setup
	@[ -f $(INSTALL_BUILD)/build.ninja ] || meson setup $(INSTALL_BUILD) --prefix=$(PREFIX) -Dtests=false
	meson compile -C $(INSTALL_BUILD)
	meson install -C $(INSTALL_BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

bench: build
	bench/pixel

clean:
	rm -rf build build-asan build-fuzz build-install
