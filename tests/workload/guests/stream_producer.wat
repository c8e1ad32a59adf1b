;; Exports test:link/bytes: produce(total, chunk, mode) returns a stream of
;; `total` bytes, byte i being (i * 7 + 3) & 0xff, and writes it after the
;; call returned, `chunk` bytes at a time (up to 1 MiB), each write blocking
;; until the reader took it (the rest of a short write is written again).
;; Mode 1 drops the writable end after half; mode 2 traps after half. A
;; write the reader dropped ends the writing (mode 3 traps there instead: a
;; probe that the drop was seen). oops() returns an error context whose
;; debug message is "stream producer: oops".
;; Memory: the chunk at 64 KiB.
(component
  (type $S (stream u8))
  (core module $Mem (memory (export "mem") 17))
  (core instance $mem (instantiate $Mem))
  (core func $task.return (canon task.return (result $S)))
  (core func $stream.new (canon stream.new $S))
  (core func $stream.write (canon stream.write $S (memory (core memory $mem "mem"))))
  (core func $stream.drop-writable (canon stream.drop-writable $S))
  (core func $error-context.new (canon error-context.new (memory (core memory $mem "mem"))))
  (core module $M
    (import "" "mem" (memory 17))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "" "error-context.new" (func $error-context.new (param i32 i32) (result i32)))
    (data (i32.const 16) "stream producer: oops")
    (func (export "oops") (result i32) (call $error-context.new (i32.const 16) (i32.const 21)))
    (func (export "produce") (param $total i32) (param $chunk i32) (param $mode i32)
      (local $ends i64) (local $w i32) (local $sent i32) (local $stop i32) (local $len i32) (local $off i32)
      (local $k i32) (local $r i32)
      (if (i32.or (i32.eqz (local.get $chunk)) (i32.gt_u (local.get $chunk) (i32.const 1048576))) (then unreachable))
      (local.set $ends (call $stream.new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $task.return (i32.wrap_i64 (local.get $ends)))
      (local.set $stop (local.get $total))
      (if (i32.or (i32.eq (local.get $mode) (i32.const 1)) (i32.eq (local.get $mode) (i32.const 2)))
        (then (local.set $stop (i32.shr_u (local.get $total) (i32.const 1)))))
      (block $end (loop $more
        (br_if $end (i32.ge_u (local.get $sent) (local.get $stop)))
        (local.set $len (i32.sub (local.get $stop) (local.get $sent)))
        (if (i32.gt_u (local.get $len) (local.get $chunk)) (then (local.set $len (local.get $chunk))))
        (local.set $k (i32.const 0))
        (block $filled (loop $fill
          (br_if $filled (i32.ge_u (local.get $k) (local.get $len)))
          (i32.store8 (i32.add (i32.const 65536) (local.get $k))
            (i32.add (i32.mul (i32.add (local.get $sent) (local.get $k)) (i32.const 7)) (i32.const 3)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $fill)))
        (local.set $off (i32.const 0))
        (block $written (loop $rest
          (br_if $written (i32.ge_u (local.get $off) (local.get $len)))
          (local.set $r (call $stream.write (local.get $w) (i32.add (i32.const 65536) (local.get $off))
                                            (i32.sub (local.get $len) (local.get $off))))
          (local.set $off (i32.add (local.get $off) (i32.shr_u (local.get $r) (i32.const 4))))
          (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;)))
            (then
              (if (i32.eq (local.get $mode) (i32.const 3)) (then unreachable))
              (br $end)))
          (br $rest)))
        (local.set $sent (i32.add (local.get $sent) (local.get $len)))
        (br $more)))
      (if (i32.eq (local.get $mode) (i32.const 2)) (then unreachable))
      (call $stream.drop-writable (local.get $w))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "task.return" (func $task.return))
    (export "stream.new" (func $stream.new))
    (export "stream.write" (func $stream.write))
    (export "stream.drop-writable" (func $stream.drop-writable))
    (export "error-context.new" (func $error-context.new))))))
  (func $produce async (param "total" u32) (param "chunk" u32) (param "mode" u32) (result $S)
    (canon lift (core func $m "produce") async))
  (func $oops (result error-context) (canon lift (core func $m "oops")))
  (instance $bytes (export "produce" (func $produce)) (export "oops" (func $oops)))
  (export "test:link/bytes" (instance $bytes))
)
