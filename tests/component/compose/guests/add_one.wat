;; A world-level function, f(x) = x + 1: the plug of twice.wat.
(component
  (core module $M (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
  (core instance $m (instantiate $M))
  (func $f (param "x" u32) (result u32) (canon lift (core func $m "f")))
  (export "f" (func $f)))
