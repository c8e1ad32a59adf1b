;; Calls the host, which may try to call back into this instance.
(component
  (import "callback" (func $callback))
  (core func $callback' (canon lower (func $callback)))
  (core module $M
    (import "host" "callback" (func $callback))
    (func (export "reenter") (call $callback))
    (func (export "noop")))
  (core instance $m (instantiate $M (with "host" (instance (export "callback" (func $callback'))))))
  (func (export "reenter") (canon lift (core func $m "reenter")))
  (func (export "noop") (canon lift (core func $m "noop")))
)
