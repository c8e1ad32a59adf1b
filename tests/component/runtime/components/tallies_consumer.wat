;; Imports `test:demo/tallies` (tallies_provider.wat) and exports `idle`,
;; which does not use it; `use(n)`, which makes a tally of n, bumps it
;; through a borrow and drops it; `keep(n)`, which hands a tally of n to
;; its caller; and `dropped`, the provider's count of destroyed tallies.
(component
  (import "test:demo/tallies" (instance $tallies
    (export "tally" (type $t (sub resource)))
    (export "[constructor]tally" (func (param "start" u32) (result (own $t))))
    (export "[method]tally.bump" (func (param "self" (borrow $t)) (result u32)))
    (export "dropped" (func (result u32)))))
  (alias export $tallies "tally" (type $tally))
  (alias export $tallies "[constructor]tally" (func $ctor))
  (alias export $tallies "[method]tally.bump" (func $bump))
  (alias export $tallies "dropped" (func $dropped))
  (core func $ctor' (canon lower (func $ctor)))
  (core func $bump' (canon lower (func $bump)))
  (core func $dropped' (canon lower (func $dropped)))
  (core func $drop (canon resource.drop $tally))
  (core module $M
    (import "t" "ctor" (func $ctor (param i32) (result i32)))
    (import "t" "bump" (func $bump (param i32) (result i32)))
    (import "t" "drop" (func $drop (param i32)))
    (import "t" "dropped" (func $dropped (result i32)))
    (func (export "idle") (result i32) (i32.const 7))
    (func (export "use") (param i32) (result i32)
      (local $h i32)
      (local $r i32)
      (local.set $h (call $ctor (local.get 0)))
      (local.set $r (call $bump (local.get $h)))
      (call $drop (local.get $h))
      (local.get $r))
    (func (export "keep") (param i32) (result i32) (call $ctor (local.get 0)))
    (func (export "dropped") (result i32) (call $dropped)))
  (core instance $m (instantiate $M (with "t" (instance
    (export "ctor" (func $ctor'))
    (export "bump" (func $bump'))
    (export "drop" (func $drop))
    (export "dropped" (func $dropped'))))))
  (func (export "idle") (result u32) (canon lift (core func $m "idle")))
  (func (export "use") (param "n" u32) (result u32) (canon lift (core func $m "use")))
  (func (export "keep") (param "n" u32) (result (own $tally)) (canon lift (core func $m "keep")))
  (func (export "dropped") (result u32) (canon lift (core func $m "dropped")))
)
