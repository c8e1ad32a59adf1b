#include "component/val.h"
// (the canonical-ABI work fills this in: Val::f32/f64/flags, operator==,
// to_string, check_type)
