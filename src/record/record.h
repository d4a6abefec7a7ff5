/*-------------------------------------------------------------------------
 *
 * record.h
 *	  Writing decisions, for the functions that record them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_RECORD_H
#define LEARNLOOP_RECORD_H

extern int64 record_decision_insert(Datum *values);
extern void record_outcome_install_hook(void);

#endif							/* LEARNLOOP_RECORD_H */
