/*-------------------------------------------------------------------------
 *
 * spill.h
 *	  A temporary file of feature rows, for training from a stream: the
 *	  loader writes rows as it reads them, the training matrix reads them
 *	  back batch by batch.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SPILL_H
#define LEARNLOOP_SPILL_H

typedef struct Spill Spill;

extern Spill *spill_create(MemoryContext cxt);
extern void spill_write(Spill *spill, const float *row, int nfeatures);
extern int	spill_read(Spill *spill, int64 row, float *out, int nfeatures);
extern int64 spill_rows(const Spill *spill);

#endif							/* LEARNLOOP_SPILL_H */
