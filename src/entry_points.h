/*-------------------------------------------------------------------------
 *
 * entry_points.h
 *	  Makes PostgreSQL's entry points the only names learnloop.so exports.
 *
 * The library is built with -fvisibility=hidden, so that learnloop's own
 * names (evaluate, normal_cdf, ...) cannot collide with another library
 * loaded into the same backend.  The entry points (PG_MODULE_MAGIC,
 * _PG_init, the SQL functions and their info records, the worker's main)
 * are marked PGDLLEXPORT, which PostgreSQL 16 defines as default
 * visibility; before 16 it is empty outside Windows and PG_FUNCTION_INFO_V1
 * marks only the info record, so both are defined here as 16 does.  The
 * Makefile includes this file first in every file (-include), so no file
 * can forget it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ENTRY_POINTS_H
#define LEARNLOOP_ENTRY_POINTS_H

/* c.h keeps a definition made before it */
#ifndef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#endif

#include "postgres.h"
#include "fmgr.h"

#if PG_VERSION_NUM < 160000
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable
#endif

#endif							/* LEARNLOOP_ENTRY_POINTS_H */
