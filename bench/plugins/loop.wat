;; bench/plugins: a guest that calls wasi:keyvalue `get` n times on one
;; bucket, from a sync-lifted export (a WASI 0.2 caller: its call runs on
;; the host's stack) and from an async-lifted one (a WASI 0.3 caller: its
;; task runs on a fiber and waits for each answer). Both return how many
;; gets answered ok.
(component
  (import "wasi:keyvalue/store@0.2.0-draft" (instance $store
    (export "bucket" (type $bucket (sub resource)))
    (type $e (variant (case "no-such-store") (case "access-denied") (case "other" string)))
    (export "error" (type $error (eq $e)))
    (export "open" (func (param "identifier" string) (result (result (own $bucket) (error $error)))))
    (export "[method]bucket.get" (func (param "self" (borrow $bucket)) (param "key" string)
                                       (result (result (option (list u8)) (error $error)))))))
  (alias export $store "bucket" (type $bucket))
  (core module $Libc
    (memory (export "mem") 1)
    (data (i32.const 16) "bench")
    (data (i32.const 32) "key")
    (global $next (mut i32) (i32.const 1024))
    ;; Reuses one area from 1024 on: each result is read before the next call.
    (func (export "realloc") (param i32 i32 i32) (param $size i32) (result i32)
      (if (i32.gt_u (local.get $size) (i32.const 60000)) (then unreachable))
      (i32.const 1024)))
  (core instance $libc (instantiate $Libc))
  (alias export $store "open" (func $open))
  (alias export $store "[method]bucket.get" (func $get))
  (core func $open.lower (canon lower (func $open) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $get.lower (canon lower (func $get) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $bucket.drop (canon resource.drop $bucket))
  (core func $task.return (canon task.return (result u32)))
  (core module $M
    (import "" "open" (func $open (param i32 i32 i32)))
    (import "" "get" (func $get (param i32 i32 i32 i32)))
    (import "" "bucket.drop" (func $bucket.drop (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "mem" (memory 1))
    (func $loop (param $n i32) (result i32)
      (local $h i32) (local $ok i32)
      (call $open (i32.const 16) (i32.const 5) (i32.const 64))
      (if (i32.load8_u (i32.const 64)) (then unreachable))
      (local.set $h (i32.load (i32.const 68)))
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $get (local.get $h) (i32.const 32) (i32.const 3) (i32.const 96))
        (local.set $ok (i32.add (local.get $ok) (i32.eqz (i32.load8_u (i32.const 96)))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
      (call $bucket.drop (local.get $h))
      (local.get $ok))
    (func (export "loop-sync") (param $n i32) (result i32) (call $loop (local.get $n)))
    (func (export "loop-async") (param $n i32) (call $task.return (call $loop (local.get $n)))))
  (core instance $m (instantiate $M (with "" (instance
    (export "open" (func $open.lower))
    (export "get" (func $get.lower))
    (export "bucket.drop" (func $bucket.drop))
    (export "task.return" (func $task.return))
    (export "mem" (memory $libc "mem"))))))
  (func (export "loop-sync") (param "n" u32) (result u32) (canon lift (core func $m "loop-sync")))
  (func (export "loop-async") async (param "n" u32) (result u32) (canon lift (core func $m "loop-async") async)))
