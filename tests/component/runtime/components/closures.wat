;; Nested components that outer-alias what their enclosing component
;; imported (a core module and a component): each definition of them closes
;; over the instance it is defined in, two levels out, and when aliased
;; again by index (a capturing component aliased with `outer 0`).
(component
  (component $C
    (import "m" (core module $M (export "get" (func (result i32)))))
    (import "k" (component $K (export "get" (func (result u32)))))
    (component $Mid
      (component $Inner
        (alias outer $C $M (core module $M'))
        (alias outer $C $K (component $K'))
        (core instance $m (instantiate $M'))
        (func $get-m (result u32) (canon lift (core func $m "get")))
        (instance $k (instantiate $K'))
        (export "get-m" (func $get-m))
        (export "get-k" (func $k "get")))
      (instance $i (instantiate $Inner))
      (export "get-m" (func $i "get-m"))
      (export "get-k" (func $i "get-k")))
    (alias outer $C $Mid (component $Mid'))
    (instance $a (instantiate $Mid))
    (instance $b (instantiate $Mid'))
    (export "a-m" (func $a "get-m"))
    (export "b-k" (func $b "get-k")))
  (core module $M1 (func (export "get") (result i32) (i32.const 410)))
  (core module $M2 (func (export "get") (result i32) (i32.const 420)))
  (component $K1
    (core module $N (func (export "get") (result i32) (i32.const 7)))
    (core instance $n (instantiate $N))
    (func (export "get") (result u32) (canon lift (core func $n "get"))))
  (component $K2
    (core module $N (func (export "get") (result i32) (i32.const 8)))
    (core instance $n (instantiate $N))
    (func (export "get") (result u32) (canon lift (core func $n "get"))))
  (instance $c1 (instantiate $C (with "m" (core module $M1)) (with "k" (component $K1))))
  (instance $c2 (instantiate $C (with "m" (core module $M2)) (with "k" (component $K2))))
  (export "c1-a-m" (func $c1 "a-m"))
  (export "c1-b-k" (func $c1 "b-k"))
  (export "c2-a-m" (func $c2 "a-m"))
  (export "c2-b-k" (func $c2 "b-k"))
)
