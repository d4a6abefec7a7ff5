/*-------------------------------------------------------------------------
 *
 * task.c
 *	  What a model predicts, and the objectives that fit it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "model/task.h"

/* TASK_INFER has no name: no stored model and no argument spells it */
const char *const task_names[NTASKS] = {NULL, "classification", "regression", "ranking"};

const char *
task_name(ModelTask task)
{
	return task_names[task];
}

/*
 * Whether a model of task (and nclasses classes) may have objective: a
 * classifier's outputs are its classes' probabilities, a ranker's are
 * scores, and a regression is anything else.  Training and serving both
 * hold models to it.
 */
bool
objective_fits_task(ModelTask task, int nclasses, const char *objective)
{
	if (task == TASK_CLASSIFICATION)
		return strcmp(objective, nclasses == 2 ? "binary:logistic" : "multi:softprob") == 0;
	if (task == TASK_RANKING)
		return strncmp(objective, "rank:", 5) == 0;
	return strncmp(objective, "binary:", 7) != 0 && strncmp(objective, "multi:", 6) != 0 &&
		strncmp(objective, "rank:", 5) != 0;
}
