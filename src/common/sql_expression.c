/*-------------------------------------------------------------------------
 *
 * sql_expression.c
 *	  One SQL expression, checked by the parser alone: a metric's key, the
 *	  filter of ml.augment.  Nothing is analysed or run here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "parser/parser.h"

#include "common/sql_expression.h"

/*
 * "SELECT <text>" must parse to one plain SELECT of one target: a text
 * that closes a parenthesis, adds a clause (FROM, WHERE, UNION, ...) or a
 * second statement is not one expression.  A syntax error is caught: the
 * parser only reads the text, so nothing is left behind.
 */
Node *
sql_one_expression(const char *text, const char **why)
{
	MemoryContext context = CurrentMemoryContext;
	List	   *stmts = NIL;
	SelectStmt *s;

	PG_TRY();
	{
		stmts = raw_parser(psprintf("SELECT %s", text), RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		*why = error->message;
		return NULL;
	}
	PG_END_TRY();

	*why = "it is not one expression";
	if (list_length(stmts) != 1 || !IsA(linitial_node(RawStmt, stmts)->stmt, SelectStmt))
		return NULL;
	s = (SelectStmt *) linitial_node(RawStmt, stmts)->stmt;
	if (s->op != SETOP_NONE || list_length(s->targetList) != 1 || s->fromClause ||
		s->whereClause || s->groupClause || s->havingClause || s->windowClause ||
		s->distinctClause || s->valuesLists || s->sortClause || s->limitOffset ||
		s->limitCount || s->lockingClause || s->withClause || s->intoClause)
		return NULL;
	*why = NULL;
	return linitial_node(ResTarget, s->targetList)->val;
}
