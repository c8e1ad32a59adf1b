(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "m" (memory 1 2))
  (import "env" "g" (global (mut i64)))
  (import "env" "t" (table 1 funcref))
  (func (export "call") (param i32) (result i32) local.get 0 call $f)
  (global (export "c") f64 (f64.const 1.5)))
