(module
  (func (export "pair") (param i64 f32) (result f32 i64) local.get 1 local.get 0)
  (func (export "lane") (result i32) (i32x4.extract_lane 2 (v128.const i32x4 1 2 3 4)))
  (func (export "sat") (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0)))
  (func (export "ext") (param i32) (result i32) (i32.extend8_s (local.get 0))))
