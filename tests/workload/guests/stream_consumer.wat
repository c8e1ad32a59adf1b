;; Imports test:link/bytes (stream_producer.wat) and exports test:link/run:
;; run(total, chunk, mode, read-size, stop-after) calls produce and reads
;; its stream `read-size` bytes at a time (up to 64 KiB), yielding three
;; times between reads (a slow reader: the writer waits), checking every
;; byte (a wrong one traps); with `stop-after` > 0 it drops the readable end
;; once it has that many. Returns (bytes read, reads that got bytes).
;; relay-oops() returns the error context produce's component made.
;; Memory: the read buffer at 64 KiB.
(component
  (type $S (stream u8))
  (import "test:link/bytes" (instance $bytes
    (type $S (stream u8))
    (export "produce" (func async (param "total" u32) (param "chunk" u32) (param "mode" u32) (result $S)))
    (export "oops" (func (result error-context)))))
  (alias export $bytes "produce" (func $produce))
  (alias export $bytes "oops" (func $oops))
  (core module $Mem (memory (export "mem") 2))
  (core instance $mem (instantiate $Mem))
  (core func $produce (canon lower (func $produce)))
  (core func $oops.lowered (canon lower (func $oops)))
  (core func $task.return (canon task.return (result (tuple u32 u32))))
  (core func $stream.read (canon stream.read $S (memory (core memory $mem "mem"))))
  (core func $stream.drop-readable (canon stream.drop-readable $S))
  (core func $thread.yield (canon thread.yield))
  (core module $M
    (import "" "mem" (memory 2))
    (import "" "produce" (func $produce (param i32 i32 i32) (result i32)))
    (import "" "oops" (func $oops (result i32)))
    (import "" "task.return" (func $task.return (param i32 i32)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "" "thread.yield" (func $thread.yield (result i32)))
    (func (export "relay-oops") (result i32) (call $oops))
    (func (export "run") (param $total i32) (param $chunk i32) (param $mode i32) (param $size i32) (param $stop i32)
      (local $s i32) (local $r i32) (local $n i32) (local $k i32) (local $got i32) (local $reads i32)
      (if (i32.or (i32.eqz (local.get $size)) (i32.gt_u (local.get $size) (i32.const 65536))) (then unreachable))
      (local.set $s (call $produce (local.get $total) (local.get $chunk) (local.get $mode)))
      (block $end (loop $more
        (local.set $r (call $stream.read (local.get $s) (i32.const 65536) (local.get $size)))
        (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
        (local.set $k (i32.const 0))
        (block $checked (loop $check
          (br_if $checked (i32.ge_u (local.get $k) (local.get $n)))
          (if (i32.ne (i32.load8_u (i32.add (i32.const 65536) (local.get $k)))
                      (i32.and (i32.add (i32.mul (i32.add (local.get $got) (local.get $k)) (i32.const 7)) (i32.const 3))
                               (i32.const 0xff)))
            (then unreachable))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $check)))
        (local.set $got (i32.add (local.get $got) (local.get $n)))
        (if (local.get $n) (then (local.set $reads (i32.add (local.get $reads) (i32.const 1)))))
        (br_if $end (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))
        (br_if $end (i32.and (i32.ne (local.get $stop) (i32.const 0)) (i32.ge_u (local.get $got) (local.get $stop))))
        (drop (call $thread.yield))
        (drop (call $thread.yield))
        (drop (call $thread.yield))
        (br $more)))
      (call $stream.drop-readable (local.get $s))
      (call $task.return (local.get $got) (local.get $reads))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "produce" (func $produce))
    (export "oops" (func $oops.lowered))
    (export "task.return" (func $task.return))
    (export "stream.read" (func $stream.read))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "thread.yield" (func $thread.yield))))))
  (func $run async (param "total" u32) (param "chunk" u32) (param "mode" u32) (param "read-size" u32)
    (param "stop-after" u32) (result (tuple u32 u32))
    (canon lift (core func $m "run") async))
  (func $relay-oops (result error-context) (canon lift (core func $m "relay-oops")))
  (instance $runner (export "run" (func $run)) (export "relay-oops" (func $relay-oops)))
  (export "test:link/run" (instance $runner))
)
