;; Imports `test:demo/strings` and exports `run(s) = shout(echo(s))`, so a
;; string crosses between two separately instantiated components twice each way.
(component
  (import "test:demo/strings@0.1.0" (instance $strings
    (export "echo" (func (param "s" string) (result string)))
    (export "shout" (func (param "s" string) (result string)))))
  (alias export $strings "echo" (func $echo))
  (alias export $strings "shout" (func $shout))
  (core module $Mem
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $new_size)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (core func $echo' (canon lower (func $echo) (memory $memory) (realloc $realloc)))
  (core func $shout' (canon lower (func $shout) (memory $memory) (realloc $realloc)))
  (core module $M
    (import "mem" "memory" (memory 1))
    (import "s" "echo" (func $echo (param i32 i32 i32)))
    (import "s" "shout" (func $shout (param i32 i32 i32)))
    (func (export "run") (param i32 i32) (result i32)
      (call $echo (local.get 0) (local.get 1) (i32.const 8))
      (call $shout (i32.load (i32.const 8)) (i32.load (i32.const 12)) (i32.const 8))
      (i32.const 8)))
  (core instance $m (instantiate $M
    (with "mem" (instance $mem))
    (with "s" (instance (export "echo" (func $echo')) (export "shout" (func $shout'))))))
  (func (export "run") (param "s" string) (result string)
    (canon lift (core func $m "run") (memory $memory) (realloc $realloc)))
)
