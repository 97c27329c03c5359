# aftersales — build, test and demo. `make demo` and `make test` are the two set-up commands.
PREFIX ?= /usr/local
SWIFT ?= swift
# Debian packages the build and the tests need; installed when missing and run as root.
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev python3-aiosmtpd

.PHONY: all build deps test demo install clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build
	$(SWIFT) test
	$$($(SWIFT) build --show-bin-path)/aftersales templates check

demo: deps
	$(SWIFT) build
	AFTERSALES=$(CURDIR)/.build/debug/aftersales bash scripts/demo.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $$($(SWIFT) build -c release --show-bin-path)/aftersales $(DESTDIR)$(PREFIX)/bin/aftersales
	install -d $(DESTDIR)$(PREFIX)/share/aftersales
	rm -rf $(DESTDIR)$(PREFIX)/share/aftersales/templates
	cp -R templates $(DESTDIR)$(PREFIX)/share/aftersales/templates

clean:
	rm -rf .build demo
