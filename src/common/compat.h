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

/* the index insertions of a plain INSERT: duplicates are errors */
#if PG_VERSION_NUM >= 160000
#define exec_insert_index_tuples_plain(rri, slot, estate) \
	ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL, false)
#elif PG_VERSION_NUM >= 140000
#define exec_insert_index_tuples_plain(rri, slot, estate) \
	ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL)
#else
#define exec_insert_index_tuples_plain(rri, slot, estate) \
	((estate)->es_result_relation_info = (rri), \
	 ExecInsertIndexTuples(slot, estate, false, NULL, NIL))
#endif

/* closes what the executor opened to fire triggers (renamed in 14) */
#if PG_VERSION_NUM >= 140000
#define close_trigger_relations(estate) ExecCloseResultRelations(estate)
#else
#define close_trigger_relations(estate) ExecCleanUpTriggerState(estate)
#endif

/* the sequence of an identity column: PostgreSQL 17 takes the relation */
#if PG_VERSION_NUM >= 170000
#define identity_sequence(rel, attnum) getIdentitySequence(rel, attnum, false)
#else
#define identity_sequence(rel, attnum) getIdentitySequence(RelationGetRelid(rel), attnum, false)
#endif

/* the end of the last WAL record inserted (PostgreSQL 15 exports it) */
#if PG_VERSION_NUM >= 150000
#define learnloop_xlog_insert_end() GetXLogInsertEndRecPtr()
#else
#define learnloop_xlog_insert_end() XactLastRecEnd
#endif

/* a dotted name parsed into its parts: PostgreSQL 16 takes a soft-error context */
#if PG_VERSION_NUM >= 160000
#define qualified_name_list(string) stringToQualifiedNameList(string, NULL)
#else
#define qualified_name_list(string) stringToQualifiedNameList(string)
#endif

#endif							/* LEARNLOOP_COMPAT_H */
