/* LD_PRELOAD shim counting heap allocations (malloc, calloc, realloc, aligned forms; C++ new
 * goes through malloc). At exit it appends "<allocations>\n" to $MALLOC_COUNT_FILE.
 * Used by allocs.py to measure allocations per delivered message. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static atomic_ulong count;

void* malloc(size_t n) {
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t a, size_t n) {
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("MALLOC_COUNT_FILE");
  if (!path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "%lu\n", (unsigned long)atomic_load(&count));
  fclose(f);
}
