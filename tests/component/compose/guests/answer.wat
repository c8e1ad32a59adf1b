;; test:compose/answer: `get` returns 42. The callee of run_answer.wat.
(component
  (core module $M (func (export "get") (result i32) (i32.const 42)))
  (core instance $m (instantiate $M))
  (func $get (result u32) (canon lift (core func $m "get")))
  (instance $answer (export "get" (func $get)))
  (export "test:compose/answer" (instance $answer))
)
