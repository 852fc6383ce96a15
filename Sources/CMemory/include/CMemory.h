#ifndef PERSONALIZE_TAIL_CMEMORY_H
#define PERSONALIZE_TAIL_CMEMORY_H

/// Limits glibc's malloc arenas to `count` (mallopt M_ARENA_MAX). Returns 1 on success, 0 when not supported.
int pt_limit_malloc_arenas(int count);

/// The number of CPUs in this thread's affinity mask (sched_getaffinity), or 0 when it cannot be read.
int pt_affinity_cpu_count(void);

/// The malloc in use: "jemalloc", "mimalloc", "glibc" or "system".
const char *pt_allocator_name(void);

/// The commit the binary was built from ("unknown" when the build had no git checkout).
const char *pt_build_commit(void);

/// When this file was compiled (`__DATE__ __TIME__`, the build's local time as the compiler gives it).
const char *pt_build_date(void);

#endif
