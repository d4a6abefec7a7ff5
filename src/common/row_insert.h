/*-------------------------------------------------------------------------
 *
 * row_insert.h
 *	  INSERT ... ON CONFLICT DO NOTHING into learnloop's own tables without
 *	  planning and starting a statement.
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

typedef struct RowInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* the new row, then the conflicting one */
	List	   *arbiter;		/* the primary key */
} RowInsert;

extern Relation ml_table_open(const char *relname, LOCKMODE lockmode);
extern Relation ml_index_open_plain(Relation rel, const TableShape *shape, Oid indexoid,
									int nkeys, const AttrNumber *keys);
extern bool row_insert_begin(RowInsert *ins, Relation rel, const TableShape *shape,
							 AclMode required);
extern bool row_insert_unless_conflict(RowInsert *ins);
extern void row_insert_end(RowInsert *ins);

#endif							/* LEARNLOOP_ROW_INSERT_H */
