/*-------------------------------------------------------------------------
 *
 * tables.h
 *	  The experiment tables as learnloop creates them, for the code that
 *	  reads and writes them without the executor (common/row_insert.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_EXPERIMENT_TABLES_H
#define LEARNLOOP_EXPERIMENT_TABLES_H

#include "common/row_insert.h"

/* ml.experiment_exposures (experiment, unit_id, variant, exposed_at) */
extern const TableShape exposures_shape;
#define EXPOSURE_COLUMNS 4
#define EXPOSURE_VARIANT_COLUMN 3
/* its index experiment_exposures_variant_idx (experiment, variant) */
extern const AttrNumber exposures_variant_index_keys[2];

/* ml.experiment_outcomes (experiment, unit_id, variant, metric, value, recorded_at) */
extern const TableShape outcomes_shape;
#define OUTCOME_COLUMNS 6

#endif							/* LEARNLOOP_EXPERIMENT_TABLES_H */
