;; Exports `test:demo/tallies`: resource `tally`, whose rep is the number it
;; was made with; `[method]tally.bump` returns that number + 1; `dropped`
;; counts the tallies its destructor destroyed. The resource is exported
;; through a nested component, the shape wit-component gives.
(component
  (core module $D
    (global $dropped (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $dropped (i32.add (global.get $dropped) (i32.const 1))))
    (func (export "dropped") (result i32) (global.get $dropped)))
  (core instance $d (instantiate $D))
  (alias core export $d "dtor" (core func $dtor))
  (type $T (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $T))
  (core module $M
    (import "r" "new" (func $new (param i32) (result i32)))
    (func (export "ctor") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "bump") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
  (core instance $m (instantiate $M (with "r" (instance (export "new" (func $new))))))
  (func $ctor (param "start" u32) (result (own $T)) (canon lift (core func $m "ctor")))
  (func $bump (param "self" (borrow $T)) (result u32) (canon lift (core func $m "bump")))
  (func $dropped (result u32) (canon lift (core func $d "dropped")))
  (component $Shim
    (import "import-type-tally" (type $t (sub resource)))
    (import "import-constructor-tally" (func $c (param "start" u32) (result (own $t))))
    (import "import-method-tally-bump" (func $b (param "self" (borrow $t)) (result u32)))
    (import "import-dropped" (func $d (result u32)))
    (export $t' "tally" (type $t))
    (export "[constructor]tally" (func $c) (func (param "start" u32) (result (own $t'))))
    (export "[method]tally.bump" (func $b) (func (param "self" (borrow $t')) (result u32)))
    (export "dropped" (func $d)))
  (instance $tallies (instantiate $Shim
    (with "import-type-tally" (type $T))
    (with "import-constructor-tally" (func $ctor))
    (with "import-method-tally-bump" (func $bump))
    (with "import-dropped" (func $dropped))))
  (export "test:demo/tallies" (instance $tallies))
)
