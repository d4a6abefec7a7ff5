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

typedef struct RowInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* the new row, then the conflicting one */
	List	   *arbiter;		/* the primary key */
} RowInsert;

extern Relation ml_table_open(const char *relname, LOCKMODE lockmode);
extern bool row_insert_begin(RowInsert *ins, Relation rel, int natts,
							 AclMode required);
extern bool row_insert_unless_conflict(RowInsert *ins);
extern void row_insert_end(RowInsert *ins);

#endif							/* LEARNLOOP_ROW_INSERT_H */
