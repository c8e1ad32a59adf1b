(module
  (memory (export "memory") 1 4)
  (data (i32.const 0) "stratus")
  (func (export "sum") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (i32.load8_u (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 100))))
