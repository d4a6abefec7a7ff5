/*-------------------------------------------------------------------------
 *
 * json_tree.h
 *	  cJSON trees owned by a PostgreSQL memory context.
 *
 * learnloop installs no cJSON allocation hooks: they are process-wide, and
 * another library in the same backend may use cJSON and expect malloc.  So
 * cJSON allocates with malloc, and every tree learnloop keeps is registered
 * with the current memory context, whose reset or deletion frees it, an
 * error unwinding past the code that uses the tree included.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_JSON_TREE_H
#define LEARNLOOP_JSON_TREE_H

#include <cjson/cJSON.h>

typedef struct JsonTree
{
	cJSON	   *root;			/* NULL once freed */
	MemoryContextCallback callback;
} JsonTree;

/* Takes over a tree cJSON made; NULL (cJSON's out of memory) is an error. */
extern JsonTree *json_tree_own(cJSON *root);

/* Parses text; root is NULL when it is not valid JSON. */
extern JsonTree *json_tree_parse(const char *json);

/* Frees the tree now rather than with its memory context. */
extern void json_tree_free(JsonTree *tree);

/* An item printed without spaces, palloc'd. */
extern char *json_print(const cJSON *item);

/* The error for a cJSON function that returned NULL for want of memory. */
extern void json_out_of_memory(void) pg_attribute_noreturn();

#endif							/* LEARNLOOP_JSON_TREE_H */
