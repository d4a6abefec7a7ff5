/*-------------------------------------------------------------------------
 *
 * sql_source.h
 *	  How a function's source argument is read: a query when it starts
 *	  like one, otherwise the name of a table or view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SQL_SOURCE_H
#define LEARNLOOP_SQL_SOURCE_H

extern bool sql_source_is_query(const char *source);

#endif							/* LEARNLOOP_SQL_SOURCE_H */
