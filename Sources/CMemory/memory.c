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

/* jemalloc's start-up options, read when the binary is linked with it (Package.swift); the C library's malloc
   ignores the symbol, and MALLOC_CONF in the environment still adds to or overrides it. One arena instead of four
   per CPU: every thread's small allocations come from thread caches anyway, and each extra arena keeps its own
   partly used pages, which is what a follower of thousands of files pays for (bench/README.md has the runs). */
__attribute__((used, visibility("default"))) const char *malloc_conf = "narenas:1";
