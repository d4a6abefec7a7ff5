/*-------------------------------------------------------------------------
 *
 * sql_expression.h
 *	  Whether an argument's SQL text is one expression and nothing more,
 *	  so that a caller can put it inside its own statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SQL_EXPRESSION_H
#define LEARNLOOP_SQL_EXPRESSION_H

#include "nodes/nodes.h"

/*
 * The raw (unanalysed) expression of "SELECT <text>" when that is all
 * there is; otherwise NULL, with *why the reason: the parser's message
 * for a syntax error, else "it is not one expression".
 */
extern Node *sql_one_expression(const char *text, const char **why);

#endif							/* LEARNLOOP_SQL_EXPRESSION_H */
