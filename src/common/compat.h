/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What learnloop needs to build on PostgreSQL 13 to 17.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_COMPAT_H
#define LEARNLOOP_COMPAT_H

/* string-keyed dynahash tables: the default before PostgreSQL 14 */
#if PG_VERSION_NUM < 140000
#define HASH_STRINGS 0
#endif

/* the name of EmitWarningsOnPlaceholders from PostgreSQL 15 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * The index checks and insertions of a speculative insertion (not an
 * update, no duplicate error, conflicts on the arbiters reported).
 * PostgreSQL 14 passed the result relation explicitly instead of through
 * the EState; 16 added a flag for summarizing indexes only.
 */
#if PG_VERSION_NUM >= 160000
#define exec_check_index_constraints(rri, slot, estate, conflict, arbiters) \
	ExecCheckIndexConstraints(rri, slot, estate, conflict, arbiters)
#define exec_insert_index_tuples(rri, slot, estate, conflict, arbiters) \
	ExecInsertIndexTuples(rri, slot, estate, false, true, conflict, arbiters, false)
#elif PG_VERSION_NUM >= 140000
#define exec_check_index_constraints(rri, slot, estate, conflict, arbiters) \
	ExecCheckIndexConstraints(rri, slot, estate, conflict, arbiters)
#define exec_insert_index_tuples(rri, slot, estate, conflict, arbiters) \
	ExecInsertIndexTuples(rri, slot, estate, false, true, conflict, arbiters)
#else
#define exec_check_index_constraints(rri, slot, estate, conflict, arbiters) \
	((estate)->es_result_relation_info = (rri), \
	 ExecCheckIndexConstraints(slot, estate, conflict, arbiters))
#define exec_insert_index_tuples(rri, slot, estate, conflict, arbiters) \
	((estate)->es_result_relation_info = (rri), \
	 ExecInsertIndexTuples(slot, estate, true, conflict, arbiters))
#endif

/* the end of the last WAL record inserted (PostgreSQL 15 exports it) */
#if PG_VERSION_NUM >= 150000
#define learnloop_xlog_insert_end() GetXLogInsertEndRecPtr()
#else
#define learnloop_xlog_insert_end() XactLastRecEnd
#endif

#endif							/* LEARNLOOP_COMPAT_H */
