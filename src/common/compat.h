/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What learnloop needs from PostgreSQL versions older than 15.
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

#endif							/* LEARNLOOP_COMPAT_H */
