# learnloop: the machine-learning learning loop inside PostgreSQL (PGXS build)

EXTENSION = learnloop
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" learnloop.control)
MODULE_big = learnloop

OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

# The install script is edited in one file, sql/learnloop.sql, and built
# into sql/learnloop--$(EXTVERSION).sql (gitignored; see the rule below).
# The other sql/learnloop--*.sql are the released full scripts kept as
# upgrade bases and the upgrade scripts: docs/releasing.md says how a
# release adds them.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
# No DOCS: PGXS would install them into the directory every extension
# shares (docs/reference.md would take the name reference.md there); the
# Debian package ships README.md and docs/ in its own doc directory
# (debian/postgresql-15-learnloop.docs).

# pg_regress suites: one test/sql/NAME.sql and test/expected/NAME.out each;
# results/, regression.diffs and regression.out go to test/regress_output
REGRESS = schema record_decision decision_insert record_outcome simulate train train_shapes predict privileges reinstall \
	experiment_assign experiment_outcomes experiment_stats experiment_bandit defaults search_path deploy_gate train_worker privileges_registry silent_failures train_robust simulate_limits experiment_guardrails train_review serving_review bad_input_fixes serving_stats prometheus_metrics alerts report webhook_settings monitor monitor_alerts monitor_keys monitor_exact decide_explore simulate_truth simulate_policy bandit bandit_convergence bandit_read_paths evaluate_policy least_certain model_import experiment_metrics experiment_metrics_agreement warm_start cohort_warm predict_batch train_partitioned cohort cohort_shapes train_stream simulate_spec augment cohort_review
# scripts/valgrind.sh sets its own, to run beside the other suites
REGRESS_OUTPUT ?= test/regress_output
REGRESS_OPTS = --inputdir=test --outputdir=$(REGRESS_OUTPUT) --load-extension=learnloop --encoding=UTF8

# isolation specs live under test/isolation (specs/ and expected/)
ISOLATION = record_outcome_concurrent record_fallback_concurrent experiment_concurrent deploy_during_load alerts_concurrent monitor_concurrent bandit_concurrent bandit_definition_concurrent cohort_deploy_concurrent
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output --load-extension=learnloop

# before the include: PGXS reads EXTRA_CLEAN there (ifdef)
EXTRA_CLEAN = test/regress_output test/isolation/output

# Warnings are shown, never fatal here: a user's newer compiler may warn
# of what ours does not, and must still build.  The test command builds
# with -Werror (scripts/build.sh --werror: make COPT=-Werror), so that
# warnings stay at zero.
PG_CPPFLAGS = -I$(srcdir)/src -DLEARNLOOP_VERSION='"$(EXTVERSION)"' -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

# Only PostgreSQL's entry points are exported (see src/entry_points.h):
# learnloop's other names must not collide with another library in the
# backend.  test/shell/exported_symbols.sh checks the built library.
PG_CFLAGS = -fvisibility=hidden
PG_CPPFLAGS += -include $(srcdir)/src/entry_points.h
# libcurl: the webhook delivery worker (src/notify/), and ml.build_info()'s
# version string.
SHLIB_LINK = -lxgboost -lcurl -lcjson

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# after the include, so that PGXS's "all" stays the default goal
$(DATA_built): sql/$(EXTENSION).sql
	cp $< $@

# pgTAP suites, run by pg_prove against the server that installcheck uses
.PHONY: installcheck-pgtap
installcheck-pgtap:
	pg_prove --ext .sql -r test/pgtap

# -O3 unrolls the tree walk's lanes, so that each walk's position stays in
# a register: a third less time per row than -O2
src/model/forest.o: CFLAGS += -O3

# every object depends on every header: crude, but the tree is small and a
# stale struct layout is worse than a full rebuild
$(OBJS): $(wildcard src/*.h src/*/*.h)

# the version compiled into ml.build_info() comes from the control file
src/build_info.o: learnloop.control
