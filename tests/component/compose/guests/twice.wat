;; h(x) = f(f(x)) over an imported world-level function f (add_one.wat),
;; and an import g no plug gives (kept by the composition, its type
;; written again at the top level).
(component
  (import "f" (func $f (param "x" u32) (result u32)))
  (type $r (result u32 (error string)))
  (import "g" (func $g (param "r" $r)))
  (core func $f_lowered (canon lower (func $f)))
  (core module $M
    (import "" "f" (func $f (param i32) (result i32)))
    (func (export "h") (param i32) (result i32) (call $f (call $f (local.get 0)))))
  (core instance $m (instantiate $M (with "" (instance (export "f" (func $f_lowered))))))
  (func $h (param "x" u32) (result u32) (canon lift (core func $m "h")))
  (export "h" (func $h)))
