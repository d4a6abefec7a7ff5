/*-------------------------------------------------------------------------
 *
 * numeric_double.h
 *	  numeric to double without going through text, when that is exact.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_NUMERIC_DOUBLE_H
#define LEARNLOOP_NUMERIC_DOUBLE_H

#include "utils/numeric.h"

extern double numeric_to_double(Numeric num);

#endif							/* LEARNLOOP_NUMERIC_DOUBLE_H */
