# Standalone unit test of src/train/metrics.c: make -f test/unit/metrics.mk
#
# Builds against the server headers (metrics.c makes no backend calls) and
# libpgport, where port.h sends qsort and printf (Debian keeps it in
# pkglibdir, a source build in libdir); then runs the TAP test, so a
# failing check fails the make.

PG_CONFIG ?= pg_config
CC ?= cc
METRICS_CFLAGS = -I src -I test/unit -I$(shell $(PG_CONFIG) --includedir-server) \
	-Wall -Wextra -Werror -O2
METRICS_LIBS = -L$(shell $(PG_CONFIG) --pkglibdir) -L$(shell $(PG_CONFIG) --libdir) \
	-lpgport -lm

.PHONY: metrics_test
metrics_test: test/unit/metrics_test
	test/unit/metrics_test

test/unit/metrics_test: test/unit/metrics_test.c test/unit/metrics_fixtures.h \
		src/train/metrics.c src/train/metrics.h
	$(CC) $(METRICS_CFLAGS) -o $@ test/unit/metrics_test.c src/train/metrics.c $(METRICS_LIBS)

.PHONY: metrics_fixtures
metrics_fixtures:
	/usr/bin/python3 test/unit/make_metrics_fixtures.py
