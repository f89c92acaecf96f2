# docs/site.mk — the docs site (the Makefile includes docs/*.mk): docs/*.md and README.md
# as HTML pages, every chapter's C files side by side (comments | code), all offline.
# scripts/docs/site/build.py does it with pandoc and Pygments; docs/site.md explains the choices.

.PHONY: docs docs-deps docs-sync docs-check serve-docs

SITE       := build/site
SITE_SHOTS := build/site-shots

# What the site needs: scripts/deps.sh's `docs` group (pandoc, python3-pygments; chromium
# and a Chinese font for docs-check). Until deps.sh has that group, say what is missing.
docs_deps = if scripts/deps.sh --packages | grep -qx pandoc; then scripts/deps.sh docs; \
	else /usr/bin/python3 scripts/docs/site/build.py need $(1); fi

## docs                 build the offline docs site into build/site (open build/site/index.html)
docs:
	@$(call docs_deps,pandoc python3-pygments)
	@/usr/bin/python3 scripts/docs/site/build.py build $(SITE)

# everything the docs targets use, installed in one go (tests/docs_*.bats start with it)
docs-deps:
	@$(call docs_deps,pandoc python3-pygments chromium fonts-wqy-microhei)

## docs-sync            rewrite the pages' code blocks (<!-- code: FILE#REGION -->) from the source
docs-sync:
	@$(call docs_deps,python3-pygments)
	@/usr/bin/python3 scripts/docs/site/build.py sync

## docs-check           render every page of the site in headless Chromium: links, anchors, images, layout; screenshots in build/site-shots
docs-check: docs
	@$(call docs_deps,chromium fonts-wqy-microhei)
	@/usr/bin/python3 scripts/docs/site/build.py check-md
	@/usr/bin/python3 scripts/docs/site/check.py $(SITE) $(SITE_SHOTS)

## serve-docs           serve build/site on http://127.0.0.1:8000/ with chapter 8's gateway, for a projector (PORT=N; Ctrl-C stops)
# http_gateway --docs --docs-prefix /: the workbook's own evhttp server as a plain
# static file server (sendfile, Content-Type, 304s, no path escapes); --redis-port 0
# since a docs site needs no Redis. run-demo.sh: Ctrl-C stops the server alone and
# make ends quietly.
serve-docs: PORT ?= 8000
serve-docs: docs $(O)08_http_gateway/http_gateway
	@echo "docs: http://127.0.0.1:$(PORT)/  ($(SITE); Ctrl-C stops)"
	@scripts/demo/run-demo.sh $(O)08_http_gateway/http_gateway --port $(PORT) --redis-port 0 \
		--docs $(SITE) --docs-prefix /
