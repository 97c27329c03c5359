# aftersales — build, test and demo. `make demo` and `make test` are the two set-up commands.
PREFIX ?= /usr/local
SWIFT ?= swift
# Debian packages the build and the tests need; installed when missing and run as root.
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev python3-aiosmtpd openssl time gcc chromium wrk dovecot-imapd

# `make bench` scale (1 = about 1,000 orders) and SMTP messages.
BENCH_SCALE ?= 20
BENCH_MESSAGES ?= 3000
BENCH_TOOLS := .build/bench-tools
# Release builds link the Swift runtime and Foundation statically: the installed binary needs no
# Swift toolchain, and a process that cron starts every few minutes skips loading a dozen libraries.
# Products are named: GRDB's dynamic library product cannot link against a static runtime.
RELEASE := -c release --static-swift-stdlib

.PHONY: all build deps test demo bench install clean

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
	$(SWIFT) build $(RELEASE) --product aftersales

test: deps
	$(SWIFT) build
	# The classifier's fuzz test takes a million inputs here (100,000 in a bare `swift test`).
	AFTERSALES_FUZZ_INPUTS=1000000 $(SWIFT) test
	$$($(SWIFT) build --show-bin-path)/aftersales templates check

demo: deps
	$(SWIFT) build
	AFTERSALES=$(CURDIR)/.build/debug/aftersales bash scripts/demo.sh

bench: deps
	@for p in sqlite3 time; do dpkg -s $$p >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq $$p >/dev/null; }; done
	$(SWIFT) build $(RELEASE) --product aftersales
	$(SWIFT) build $(RELEASE) --product aftersales-bench
	mkdir -p $(BENCH_TOOLS)
	[ -x $(BENCH_TOOLS)/usr/sbin/smtp-sink ] || (cd $(BENCH_TOOLS) && apt-get download postfix >/dev/null 2>&1 && dpkg -x postfix_*.deb .)
	cc -O2 -o $(BENCH_TOOLS)/curl_send Benchmarks/curl_send.c -lcurl
	bin=$$($(SWIFT) build $(RELEASE) --show-bin-path); $$bin/aftersales-bench --scale $(BENCH_SCALE) --messages $(BENCH_MESSAGES) \
	  --binary $$bin/aftersales --smtp-sink $(BENCH_TOOLS)/usr/sbin/smtp-sink --curl-send $(BENCH_TOOLS)/curl_send

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $$($(SWIFT) build $(RELEASE) --show-bin-path)/aftersales $(DESTDIR)$(PREFIX)/bin/aftersales
	strip --strip-debug $(DESTDIR)$(PREFIX)/bin/aftersales  # 100 MB of debug info; the symbols stay for backtraces
	install -d $(DESTDIR)$(PREFIX)/share/aftersales
	rm -rf $(DESTDIR)$(PREFIX)/share/aftersales/templates
	cp -R templates $(DESTDIR)$(PREFIX)/share/aftersales/templates
	# The man page from argument-parser's manual plugin and the completions argument-parser generates.
	# (a debug build: the page is the same, and the static release binary is left as it is; works offline).
	$(SWIFT) package plugin generate-manual --configuration debug
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 .build/plugins/GenerateManual/outputs/aftersales/aftersales.1 $(DESTDIR)$(PREFIX)/share/man/man1/aftersales.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(DESTDIR)$(PREFIX)/bin/aftersales --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/aftersales
	$(DESTDIR)$(PREFIX)/bin/aftersales --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_aftersales
	$(DESTDIR)$(PREFIX)/bin/aftersales --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/aftersales.fish

clean:
	rm -rf .build demo
