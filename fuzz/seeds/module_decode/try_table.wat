;; try_table (the exception-handling proposal): wabt 1.0.32 cannot parse it, so run_fuzz.sh
;; assembles this seed with jco (wasm-tools).
(module
  (tag $t (export "t") (param i32))
  (func (export "run") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h)
        (throw $t (local.get 0)))
      (i32.const 99))))
