# tests/fuzz/fuzz.mk — `make fuzz`: every parser of untrusted bytes under
# libFuzzer with ASan and UBSan (scripts/ci/fuzz.sh does the work; the Makefile
# includes this file). Each harness is tests/fuzz/NAME.c, its seeds
# tests/fuzz/corpus/NAME/; a new parser adds its harness there, nothing here.

.PHONY: fuzz
FUZZ_S ?= 20

## fuzz                 every tests/fuzz/*.c harness for FUZZ_S seconds each (default 20): libFuzzer + ASan + UBSan
fuzz:
	@FUZZ_S=$(FUZZ_S) scripts/ci/fuzz.sh
