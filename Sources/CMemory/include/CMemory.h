#ifndef PERSONALIZE_TAIL_CMEMORY_H
#define PERSONALIZE_TAIL_CMEMORY_H

/// Limits glibc's malloc arenas to `count` (mallopt M_ARENA_MAX). Returns 1 on success, 0 when not supported.
int pt_limit_malloc_arenas(int count);

/// The number of CPUs in this thread's affinity mask (sched_getaffinity), or 0 when it cannot be read.
int pt_affinity_cpu_count(void);

/// The malloc in use: "jemalloc", "mimalloc", "glibc" or "system".
const char *pt_allocator_name(void);

#endif
