# Makefile — builds every chapter of the libevent workbook and runs its tests.
#
#   make chapter1     build chapter 1 and run its demo     make test      the whole suite
#   make help         every target, one line each
#
# Binaries land next to their source (01_listener/listener). O=DIR/ puts them
# under DIR instead (DIR/01_listener/listener), so a build with other flags can
# live beside the normal one without mixing objects.

CC       ?= cc
CFLAGS   ?= -std=c11 -Wall -Wextra -Werror -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon
O        ?=
# Where the tests look for binaries (tests/helpers.bash reads it).
export WORKBOOK_BIN := $(if $(O),$(abspath $(O)),$(CURDIR))

# Recursive (=) on purpose: expanded when a recipe runs, after `deps` has
# installed the .pc files.
LIBEVENT_CFLAGS = $(shell pkg-config --cflags libevent)
LIBEVENT_LIBS   = $(shell pkg-config --libs libevent)

COMMON_OBJ := $(O)common/common.o
SOURCES    := 01_listener/listener.c
PROGRAMS   := $(addprefix $(O),$(SOURCES:.c=))

.PHONY: all deps help clean test chapter1
.DEFAULT_GOAL := all

all: $(PROGRAMS)

help:
	@echo "make / make all      build every chapter"
	@echo "make chapter1        build chapter 1 and run the listener on 127.0.0.1:8080"
	@echo "make test            build everything and run the whole test suite"
	@echo "make test-chapterN   build everything and run chapter N's tests (e.g. test-chapter1)"
	@echo "make deps            install what is missing (Debian/Ubuntu), or say what to install"
	@echo "make clean           remove what the build made"

deps:
	@scripts/deps.sh

$(COMMON_OBJ): common/common.c common/common.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Every chapter is one .c file linked with common.o and libevent; a chapter
# that needs more adds to EXTRA_LIBS for its own binary.
$(PROGRAMS): $(O)%: %.c $(COMMON_OBJ) common/common.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIBEVENT_CFLAGS) $(CFLAGS) -o $@ $< $(COMMON_OBJ) \
		$(EXTRA_LIBS) $(LIBEVENT_LIBS) $(LDFLAGS)

chapter1: $(O)01_listener/listener
	@echo "try: telnet 127.0.0.1 8080   (Ctrl-C here stops the server)"
	@$(O)01_listener/listener --port 8080

test: all
	@scripts/run-tests.sh tests/*.bats

test-chapter%: all
	@scripts/run-tests.sh tests/0$*_*.bats

clean:
	rm -f $(PROGRAMS) $(COMMON_OBJ)
	rm -rf build
