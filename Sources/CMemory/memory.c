#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#endif
#include "CMemory.h"
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int pt_limit_malloc_arenas(int count) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}

int pt_affinity_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
#else
    return 0;
#endif
}

const char *pt_allocator_name(void) {
    /* jemalloc's control interface: present when jemalloc provides malloc (linked or preloaded). */
    if (dlsym(RTLD_DEFAULT, "mallctl") != 0) return "jemalloc";
    if (dlsym(RTLD_DEFAULT, "mi_version") != 0) return "mimalloc";
#if defined(__GLIBC__)
    return "glibc";
#else
    return "system";
#endif
}

#ifndef PT_BUILD_COMMIT
#define PT_BUILD_COMMIT "unknown"
#endif

const char *pt_build_commit(void) { return PT_BUILD_COMMIT; }

const char *pt_build_date(void) { return __DATE__ " " __TIME__; }
