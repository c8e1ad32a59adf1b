/* Runtime internals shared by the C and C++ halves of the runtime and the
 * engine; not visible to generated code. */
#ifndef STRATUS_RT_INTERNAL_H_
#define STRATUS_RT_INTERNAL_H_

#include "wasm-rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* trap.c: frees this thread's alternate signal stack (at thread exit). */
void stratus_rt_release_thread_altstack(void);

/* trap.c: gives this thread its alternate signal stack and records its
 * stack bounds, once (before its first fiber switch or call into wasm). */
void stratus_rt_thread_setup(void);

/* memory.cc: like wasm_rt_allocate_memory but reports failure instead of
 * trapping (for host-created memories). */
bool stratus_rt_memory_init(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages, uint64_t limit_bytes);
/* memory.cc: bytes of linear memory guests can reach now, all memories of
 * the process together. */
uint64_t stratus_rt_memory_bytes(void);
bool stratus_rt_table_init_funcref(wasm_rt_funcref_table_t* t, uint32_t elements, uint32_t max_elements);
bool stratus_rt_table_init_externref(wasm_rt_externref_table_t* t, uint32_t elements, uint32_t max_elements);

#ifdef __cplusplus
}
#endif

#endif

#ifdef __cplusplus
extern "C" {
#endif

/* trap.c: one host-to-wasm call under a trap frame. */
typedef struct {
  stratus_rt_invoker_t invoke;
  wasm_rt_function_ptr_t fn;
  void* ctx;
  const stratus_rt_value_t* args;
  stratus_rt_value_t* results;
} stratus_rt_invocation_t;
uint32_t stratus_rt_invoke(const stratus_rt_invocation_t* call);

typedef struct {
  void (*instantiate)(void* instance, stratus_rt_imports_t* imports);
  void* instance;
  stratus_rt_imports_t* imports;
} stratus_rt_instantiation_t;
uint32_t stratus_rt_instantiate(const stratus_rt_instantiation_t* call);

#ifdef __cplusplus
}
#endif
