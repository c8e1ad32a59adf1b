;; bench/canon consumer: imports `test:bench/echo` and calls it `n` times in
;; a loop from core code, so the measured cost is guest-to-guest calls
;; through a host-mediated link (lift in this component, lower in the other,
;; and back).
(component
  (import "test:bench/echo@0.1.0" (instance $echo
    (export "echo-string" (func (param "s" string) (result string)))
    (export "echo-list" (func (param "xs" (list u32)) (result (list u32))))))
  (alias export $echo "echo-string" (func $echo-string))
  (alias export $echo "echo-list" (func $echo-list))
  (core module $Mem
    (memory (export "memory") 2)
    (global $heap (export "heap") (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $new_size)))
      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 2)))))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (core func $echo-string' (canon lower (func $echo-string) (memory $memory) (realloc $realloc)))
  (core func $echo-list' (canon lower (func $echo-list) (memory $memory) (realloc $realloc)))
  (core module $M
    (import "mem" "memory" (memory 2))
    (import "mem" "heap" (global $heap (mut i32)))
    (import "e" "echo-string" (func $echo-string (param i32 i32 i32)))
    (import "e" "echo-list" (func $echo-list (param i32 i32 i32)))
    ;; relay-*(payload, n): n calls; each result is dropped by resetting the
    ;; bump allocator to where it was before the call. Returns the length of
    ;; the last result, so a broken link shows.
    (func (export "relay-string") (param $ptr i32) (param $len i32) (param $n i32) (result i32)
      (local $mark i32)
      (local.set $mark (global.get $heap))
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (call $echo-string (local.get $ptr) (local.get $len) (i32.const 8))
          (global.set $heap (local.get $mark))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (i32.load (i32.const 12)))
    (func (export "relay-list") (param $ptr i32) (param $len i32) (param $n i32) (result i32)
      (local $mark i32)
      (local.set $mark (global.get $heap))
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (call $echo-list (local.get $ptr) (local.get $len) (i32.const 8))
          (global.set $heap (local.get $mark))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (i32.load (i32.const 12))))
  (core instance $m (instantiate $M
    (with "mem" (instance $mem))
    (with "e" (instance (export "echo-string" (func $echo-string')) (export "echo-list" (func $echo-list'))))))
  (func (export "relay-string") (param "s" string) (param "n" u32) (result u32)
    (canon lift (core func $m "relay-string") (memory $memory) (realloc $realloc)))
  (func (export "relay-list") (param "xs" (list u32)) (param "n" u32) (result u32)
    (canon lift (core func $m "relay-list") (memory $memory) (realloc $realloc)))
)
