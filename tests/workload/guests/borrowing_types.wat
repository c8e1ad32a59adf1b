;; local:local/borrowing-types for the async-borrowing fixture pair linked in
;; a workload (the jco test host implements it itself): resource x, whose
;; constructor and foo do nothing else. The caller makes an x here and
;; lends it to the callee, which calls foo on it: a method of a resource a
;; third component owns, called across two links.
(component
  (core module $D (func (export "dtor") (param i32)))
  (core instance $d (instantiate $D))
  (alias core export $d "dtor" (core func $dtor))
  (type $X (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $X))
  (core module $M
    (import "r" "new" (func $new (param i32) (result i32)))
    (global $next (mut i32) (i32.const 0))
    (func (export "ctor") (result i32)
      (global.set $next (i32.add (global.get $next) (i32.const 1)))
      (call $new (global.get $next)))
    (func (export "foo") (param i32)))
  (core instance $m (instantiate $M (with "r" (instance (export "new" (func $new))))))
  (func $ctor (result (own $X)) (canon lift (core func $m "ctor")))
  (func $foo (param "self" (borrow $X)) (canon lift (core func $m "foo")))
  (component $Shim
    (import "import-type-x" (type $x (sub resource)))
    (import "import-constructor-x" (func $c (result (own $x))))
    (import "import-method-x-foo" (func $f (param "self" (borrow $x))))
    (export $x' "x" (type $x))
    (export "[constructor]x" (func $c) (func (result (own $x'))))
    (export "[method]x.foo" (func $f) (func (param "self" (borrow $x')))))
  (instance $types (instantiate $Shim
    (with "import-type-x" (type $X))
    (with "import-constructor-x" (func $ctor))
    (with "import-method-x-foo" (func $foo))))
  (export "local:local/borrowing-types" (instance $types))
)
