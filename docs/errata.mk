# docs/errata.mk — the docs' own targets (the Makefile includes docs/*.mk):
# the errata's compiler messages and diffs, the demos' Redis, the pictures.

.PHONY: errata errata-diff redis redis-stop pictures

## errata               compile the notes' untouched programs (docs/notes/*.orig.c) and print the compiler's messages
errata: | deps
	@scripts/docs/errata.sh compile

## errata-diff          diff -u of the notes' programs against their fixed versions (UPDATE=1: into docs/errata.md)
errata-diff:
	@scripts/docs/errata.sh $(if $(UPDATE),update,diff)

## redis                start a private Redis for the demos and keep it running (6379 if free; REDIS_PORT=N)
redis: | deps
	@scripts/demo/demo-redis.sh start $(REDIS_PORT) >/dev/null

## redis-stop           stop the private Redis of `make redis`
redis-stop:
	@scripts/demo/demo-redis.sh stop

# Pictures: every docs/img/NAME.dot (graphviz) becomes docs/img/NAME.svg. The
# SVGs are committed so that GitHub shows them; tests/walkthrough.bats checks
# they match their sources.
PICTURES := $(patsubst %.dot,%.svg,$(wildcard docs/img/*.dot))

## pictures             draw docs/img/*.svg from their graphviz sources docs/img/*.dot
pictures: $(PICTURES)

docs/img/%.svg: docs/img/%.dot
	@command -v dot >/dev/null || { echo "make: graphviz's dot is missing: apt-get install graphviz" >&2; exit 1; }
	dot -Tsvg -o $@ $<
