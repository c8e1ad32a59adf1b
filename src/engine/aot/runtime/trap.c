/* Trap delivery for generated code: per-thread trap frames, wasm_rt_trap, and
 * the SIGSEGV/SIGBUS handler that turns guard-page faults into traps.
 *
 * Written in C on purpose: a trap longjmps from wasm_rt_trap (or the signal
 * handler) back to stratus_rt_guarded_call, and every frame it crosses must be
 * generated C, glue C, or this file: never a C++ frame owning resources. */
#define _GNU_SOURCE  // NOLINT(bugprone-reserved-identifier): glibc's feature-test macro
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt_internal.h"
#include "wasm-rt.h"

__thread stratus_rt_thread_t stratus_rt_thread __attribute__((tls_model("initial-exec")));

struct stratus_rt_frame {
  sigjmp_buf jmp;
  struct stratus_rt_frame* prev;
  uint32_t saved_depth;
  uint32_t saved_in_host;
  struct stratus_rt_unwind_target* saved_unwind;
};

/* The alternate signal stack of this thread (lets the handler run when the
 * fault is a native stack overflow); freed at thread exit by a thread_local
 * owner on the C++ side (run_guarded), which calls
 * stratus_rt_release_thread_altstack. */
static __thread void* g_alt_stack;
static struct sigaction g_prev_segv, g_prev_bus;
static int g_installed;
static pthread_once_t g_install_once = PTHREAD_ONCE_INIT;

enum { kAltStackSize = 64 * 1024 };

static void chain(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction* prev = sig == SIGSEGV ? &g_prev_segv : &g_prev_bus;
  if (prev->sa_flags & SA_SIGINFO) {
    if (prev->sa_sigaction) {
      prev->sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* Default action: restore it and return, so the faulting instruction runs
   * again and the process dies with the usual signal and core dump. */
  signal(sig, SIG_DFL);
}

static void on_fault(int sig, siginfo_t* info, void* uctx) {
  stratus_rt_thread_t* t = &stratus_rt_thread;
  if (t->top == NULL || t->in_host) {
    chain(sig, info, uctx);
    return;
  }
  uintptr_t addr = (uintptr_t)info->si_addr;
  /* A fault just below (or in) this thread's stack is a native stack overflow;
   * anything else inside wasm code is an access past a guard page. */
  wasm_rt_trap_t code = WASM_RT_TRAP_OOB;
  if (t->stack_hi && addr < t->stack_hi && addr + (1u << 20) >= t->stack_lo) code = WASM_RT_TRAP_EXHAUSTION;
  /* We may be running under another handler that chained to us (libFuzzer's
   * and sanitizers' do) and that was installed without SA_NODEFER: then the
   * kernel blocked the signal for it, and leaving by longjmp would keep it
   * blocked, so that the next guard-page fault killed the process. Unblock
   * here, on the trap path only, rather than saving masks in every sigsetjmp. */
  sigset_t faults;
  sigemptyset(&faults);
  sigaddset(&faults, SIGSEGV);
  sigaddset(&faults, SIGBUS);
  pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
  wasm_rt_trap(code);
}

static void install_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  /* SA_NODEFER: we leave the handler by longjmp, so the signal must not stay
   * blocked afterwards (and we need not save masks in every sigsetjmp). */
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &g_prev_segv) == 0 && sigaction(SIGBUS, &sa, &g_prev_bus) == 0) g_installed = 1;
}

void wasm_rt_init(void) { pthread_once(&g_install_once, install_handler); }
bool wasm_rt_is_initialized(void) { return g_installed != 0; }
void wasm_rt_free(void) {}

/* First entry of this thread into wasm: alternate signal stack, stack bounds. */
static void thread_setup(stratus_rt_thread_t* t) {
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
    void* mem = mmap(NULL, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem != MAP_FAILED) {
      stack_t ss;
      ss.ss_sp = mem;
      ss.ss_size = kAltStackSize;
      ss.ss_flags = 0;
      if (sigaltstack(&ss, NULL) == 0) {
        g_alt_stack = mem;
      } else {
        munmap(mem, kAltStackSize);
      }
    }
  }
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* lo;
    size_t size;
    if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
      t->stack_lo = (uintptr_t)lo;
      t->stack_hi = (uintptr_t)lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  if (t->stack_hi == 0) t->stack_hi = 1; /* mark as set up */
}

void stratus_rt_thread_setup(void) {
  stratus_rt_thread_t* t = &stratus_rt_thread;
  if (t->stack_hi == 0) thread_setup(t);
}

void stratus_rt_release_thread_altstack(void) {
  if (!g_alt_stack) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(g_alt_stack, kAltStackSize);
  g_alt_stack = NULL;
}

uint32_t stratus_rt_guarded_call(void (*body)(void*), void* closure) {
  stratus_rt_thread_t* t = &stratus_rt_thread;
  if (t->stack_hi == 0) thread_setup(t);
  struct stratus_rt_frame frame;
  frame.prev = t->top;
  frame.saved_depth = t->depth;
  frame.saved_in_host = t->in_host;
  frame.saved_unwind = t->unwind;
  int code = sigsetjmp(frame.jmp, 0);
  if (code == 0) {
    t->top = &frame;
    t->in_host = 0;
    /* A throw never crosses the host frames that made this call: uncaught
     * here, it traps here. */
    t->unwind = NULL;
    body(closure);
    t->top = frame.prev;
    t->in_host = frame.saved_in_host;
    t->unwind = frame.saved_unwind;
    return WASM_RT_TRAP_NONE;
  }
  t = &stratus_rt_thread;
  t->top = frame.prev;
  t->depth = frame.saved_depth;
  t->in_host = frame.saved_in_host;
  t->unwind = frame.saved_unwind;
  return (uint32_t)code;
}

void wasm_rt_trap(wasm_rt_trap_t code) {
  struct stratus_rt_frame* top = stratus_rt_thread.top;
  if (top == NULL) abort(); /* a trap outside any guarded call is a stratus bug */
  siglongjmp(top->jmp, code == WASM_RT_TRAP_NONE ? WASM_RT_TRAP_UNREACHABLE : (int)code);
}

void stratus_rt_call_indirect_trap(const wasm_rt_funcref_t* data, uint32_t size, uint32_t index) {
  if (index >= size) wasm_rt_trap(WASM_RT_TRAP_TABLE_OOB);
  if (data[index].func == NULL) wasm_rt_trap(WASM_RT_TRAP_INDIRECT_NULL);
  wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
}

/* The exception in flight on this thread. Tags are numbered by the engine
 * (one per defining instance); wasm2c's static registration is unused. */
static __thread uint32_t g_exception_tag;
static __thread uint32_t g_exception_size;
static __thread uint8_t g_exception[STRATUS_RT_MAX_EXCEPTION_SIZE];

uint32_t wasm_rt_register_tag(uint32_t size) {
  (void)size;
  return 0;
}

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values) {
  if (size > STRATUS_RT_MAX_EXCEPTION_SIZE) wasm_rt_trap(WASM_RT_TRAP_RESOURCE);
  g_exception_tag = tag;
  g_exception_size = size;
  if (size) memcpy(g_exception, values, size);
}

void wasm_rt_throw(void) {
  stratus_rt_thread_t* t = &stratus_rt_thread;
  struct stratus_rt_unwind_target* target = t->unwind;
  if (target == NULL) wasm_rt_trap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
  t->depth = target->depth;
  siglongjmp(target->jmp, 1);
}

WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return stratus_rt_thread.unwind; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) { stratus_rt_thread.unwind = target; }
uint32_t wasm_rt_exception_tag(void) { return g_exception_tag; }
uint32_t wasm_rt_exception_size(void) { return g_exception_size; }
void* wasm_rt_exception(void) { return g_exception; }

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call type mismatch";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    case WASM_RT_TRAP_TABLE_OOB: return "undefined element";
    case WASM_RT_TRAP_INDIRECT_NULL: return "uninitialized element";
    case WASM_RT_TRAP_DEADLINE: return "deadline exceeded";
    case WASM_RT_TRAP_HOST: return "host error";
    case WASM_RT_TRAP_RESOURCE: return "out of resources";
  }
  return "trap";
}

static void invoke_body(void* p) {
  const stratus_rt_invocation_t* c = (const stratus_rt_invocation_t*)p;
  c->invoke(c->fn, c->ctx, c->args, c->results);
}

uint32_t stratus_rt_invoke(const stratus_rt_invocation_t* call) {
  return stratus_rt_guarded_call(invoke_body, (void*)call);
}

static void instantiate_body(void* p) {
  const stratus_rt_instantiation_t* c = (const stratus_rt_instantiation_t*)p;
  c->instantiate(c->instance, c->imports);
}

uint32_t stratus_rt_instantiate(const stratus_rt_instantiation_t* call) {
  return stratus_rt_guarded_call(instantiate_body, (void*)call);
}
