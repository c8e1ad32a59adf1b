;; A wasi:cli command whose run succeeds when test:compose/answer's `get`
;; returns 42: `stratus run` exits 0 only when answer.wat is composed in.
(component
  (type $answer (instance (export "get" (func (result u32)))))
  (import "test:compose/answer" (instance $a (type $answer)))
  (alias export $a "get" (func $get))
  (core func $get_lowered (canon lower (func $get)))
  (core module $M
    (import "answer" "get" (func $get (result i32)))
    ;; result<_, _>: 0 is ok, 1 is err.
    (func (export "run") (result i32)
      (if (result i32) (i32.eq (call $get) (i32.const 42))
        (then (i32.const 0))
        (else (i32.const 1)))))
  (core instance $m (instantiate $M (with "answer" (instance (export "get" (func $get_lowered))))))
  (func $run (result (result)) (canon lift (core func $m "run")))
  (instance $cli (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli))
)
