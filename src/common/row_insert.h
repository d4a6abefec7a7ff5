/*-------------------------------------------------------------------------
 *
 * row_insert.h
 *	  INSERT ... ON CONFLICT DO NOTHING, and plain INSERT, into learnloop's
 *	  own tables without planning and starting a statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ROW_INSERT_H
#define LEARNLOOP_ROW_INSERT_H

#include "nodes/execnodes.h"
#include "utils/rel.h"

/* What a table must look like for the direct paths to touch it. */
typedef struct TableShape
{
	int			natts;
	const Oid  *types;			/* of each column */
	int			nkeys;
	const AttrNumber *keys;		/* the primary key's columns */
} TableShape;

/* A privilege a statement needs on a table, or else on each of its columns. */
typedef struct ColumnPrivilege
{
	AclMode		mode;
	int			ncolumns;
	const AttrNumber *columns;
} ColumnPrivilege;

/* Whether an index found by name is the expected one, judged once per index */
typedef struct IndexVerdict
{
	Oid			indexoid;		/* InvalidOid: none judged yet */
	bool		accepted;
} IndexVerdict;

typedef struct RowInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* the new row, then the conflicting one */
	List	   *arbiter;		/* the primary key (NIL for row_append) */
	bool		appended;		/* row_append() done: its triggers were this row's */
} RowInsert;

extern Relation ml_table_open(const char *relname, LOCKMODE lockmode);
extern bool ml_table_access_plain(Oid relid, AclMode mode);
extern Relation ml_index_open_plain(Relation rel, const TableShape *shape, Oid indexoid,
									int nkeys, const AttrNumber *keys);
extern Relation ml_index_open_named(Relation rel, const TableShape *shape, const char *indexname,
									Oid amoid, bool (*is_expected) (Relation index),
									IndexVerdict *verdict);
extern bool row_insert_begin(RowInsert *ins, Relation rel, const TableShape *shape,
							 AclMode required);
extern bool row_insert_unless_conflict(RowInsert *ins);
extern bool row_append_begin(RowInsert *ins, Relation rel, const TableShape *shape,
							 const ColumnPrivilege *privileges, int nprivileges);
extern void row_append(RowInsert *ins);
extern void row_insert_end(RowInsert *ins);

#endif							/* LEARNLOOP_ROW_INSERT_H */
