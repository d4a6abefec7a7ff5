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

/*
 * The same, but a value beyond double's range gives an infinity (or 0)
 * instead of an error: for numbers read from stored rows, where one
 * hostile value must count as not a number, not stop the reader.
 */
extern double numeric_to_double_no_overflow(Numeric num);

#endif							/* LEARNLOOP_NUMERIC_DOUBLE_H */
