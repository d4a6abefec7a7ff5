/*-------------------------------------------------------------------------
 *
 * metric_key.h
 *	  The value of a decision metric's event: an outcome key, or an SQL
 *	  expression over the decision row, checked before it runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_KEY_H
#define LEARNLOOP_METRIC_KEY_H

/*
 * Sets search_path to pg_catalog, pg_temp until AtEOXact_GUC(true, level)
 * with the level returned (an error resets it too): the key's expression
 * is parsed, deparsed and run under this one path.
 */
extern int	metric_catalog_path(void);

/*
 * A float8 SQL expression over the decision row (alias d) that is the
 * event's value, NULL meaning no event.  An expression key is checked
 * (errors 22023, 42501) and returned as deparsed under metric_catalog_path.
 */
extern char *metric_key_sql(const char *key);

#endif							/* LEARNLOOP_METRIC_KEY_H */
