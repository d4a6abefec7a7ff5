/*-------------------------------------------------------------------------
 *
 * learnloop.h
 *	  Settings and helpers shared by every part of learnloop.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_H
#define LEARNLOOP_H

/* LEARNLOOP_VERSION comes from learnloop.control, through the Makefile */

/* learnloop.max_payload_bytes: the largest features, decision or outcome */
extern int	learnloop_max_payload_bytes;

/* learnloop.training_threads: XGBoost threads per training job, 0 = cores */
extern int	learnloop_training_threads;

/*
 * learnloop.training_memory: TrainingMemory (train/dataset.h), and the
 * size of the feature columns in kB above which 'auto' trains from a stream
 */
extern int	learnloop_training_memory;
extern int	learnloop_training_memory_limit;

#endif							/* LEARNLOOP_H */
