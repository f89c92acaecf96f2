# docs/casts.mk — the recorded lessons and the trace timelines (the Makefile includes docs/*.mk).
# Every chapter with a lesson (NN_name/demo.steps) gets docs/casts/NN.cast (its lesson, played by
# DEMO_AUTO=1 and recorded by scripts/classroom/casts.py) and docs/img/NN-timeline.svg (drawn by
# scripts/classroom/timeline.py from docs/img/NN-timeline.trace, the trace the lesson's server wrote).
# All committed, so the site works from a clone; docs/site.md explains the choices.

.PHONY: casts timelines

LESSONS   := $(patsubst %/demo.steps,%,$(sort $(wildcard [0-9][0-9]_*/demo.steps)))
LESSON_NN := $(foreach d,$(LESSONS),$(firstword $(subst _, ,$(d))))
TIMELINES := $(LESSON_NN:%=docs/img/%-timeline.svg)

## casts                record every lesson into docs/casts/NN.cast (+ its trace); CH="8 9": those; STALE=1: missing or outdated only
casts: all
	@/usr/bin/python3 scripts/classroom/casts.py record $(if $(STALE),--stale,$(or $(CH),$(LESSON_NN)))
	@$(MAKE) --no-print-directory timelines

## timelines            draw docs/img/NN-timeline.svg from each lesson's trace (a missing trace: the lesson is played for it)
timelines: $(TIMELINES)

docs/img/%-timeline.trace:
	@/usr/bin/python3 scripts/classroom/casts.py record $*

docs/img/%-timeline.svg: docs/img/%-timeline.trace scripts/classroom/timeline.py
	@/usr/bin/python3 scripts/classroom/timeline.py $< $@
	@echo "timelines: $@ from $<"
