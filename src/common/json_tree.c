/*-------------------------------------------------------------------------
 *
 * json_tree.c
 *	  cJSON trees owned by a PostgreSQL memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "common/json_number.h"
#include "common/json_tree.h"

static void
delete_tree(void *arg)
{
	JsonTree   *tree = arg;

	cJSON_Delete(tree->root);
	tree->root = NULL;
}

void
json_out_of_memory(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory"),
			 errdetail("cJSON could not allocate."),
			 errhint("Free memory on the server or make the documents smaller.")));
}

/* A holder registered with the current context, or NULL, raising nothing. */
static JsonTree *
new_tree(void)
{
	JsonTree   *tree = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(JsonTree),
												  MCXT_ALLOC_NO_OOM);

	if (tree == NULL)
		return NULL;
	tree->root = NULL;
	tree->callback.func = delete_tree;
	tree->callback.arg = tree;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &tree->callback);
	return tree;
}

JsonTree *
json_tree_own(cJSON *root)
{
	JsonTree   *tree = root ? new_tree() : NULL;

	if (tree == NULL)
	{
		cJSON_Delete(root);
		json_out_of_memory();
	}
	tree->root = root;
	return tree;
}

JsonTree *
json_tree_parse(const char *json)
{
	JsonTree   *tree = new_tree();

	if (tree == NULL)
		json_out_of_memory();
	tree->root = cJSON_Parse(json);
	return tree;
}

void
json_tree_free(JsonTree *tree)
{
	delete_tree(tree);
}

char *
json_print(const cJSON *item)
{
	StringInfoData printed;

	initStringInfo(&printed);
	json_append_cjson(&printed, item);
	return printed.data;
}
