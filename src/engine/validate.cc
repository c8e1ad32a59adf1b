// validate_core_module (validate.h) with wabt's interpreter reader, which
// validates as it reads.
#include "engine/validate.h"

#include <wabt/binary-reader.h>
#include <wabt/interp/binary-reader-interp.h>

#include <cstdio>

#include "engine/eh_lower.h"
#include "engine/interp/convert.h"
#include "engine/prescan.h"

namespace stratus::engine {

Result<ModuleTypeInfo> validate_core_module(std::span<const uint8_t> input) {
  // Rejects counts no module can hold before wabt reserves memory for them.
  STRATUS_TRY(prescan_module(input));
  // As the backends compile component core modules: try_table lowered to the
  // legacy encoding wabt reads.
  auto lowered = lower_try_table(input);
  if (!lowered) return std::move(lowered).error();
  std::span<const uint8_t> bytes = *lowered ? std::span<const uint8_t>(**lowered) : input;
  wabt::Features features;
  features.enable_multi_memory();
  features.enable_exceptions();
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false, /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  wabt::Errors errors;
  wabt::interp::ModuleDesc desc;
  if (wabt::Failed(wabt::interp::ReadBinaryInterp("module", bytes.data(), bytes.size(), options, &errors, &desc))) {
    std::string message;
    for (const auto& e : errors) {
      if (!message.empty()) message += "; ";
      char at[32];
      std::snprintf(at, sizeof at, "offset 0x%zx: ", e.loc.offset);
      message += at + e.message;
    }
    return make_error(message.empty() ? "invalid module" : message);
  }
  ModuleTypeInfo info;
  for (const auto& import : desc.imports) {
    auto type = interp::from_wabt(*import.type.type);
    if (!type.ok()) return std::move(type).error().context("import " + import.type.module + "." + import.type.name);
    info.imports.push_back({import.type.module, import.type.name, *type});
  }
  for (const auto& exp : desc.exports) {
    auto type = interp::from_wabt(*exp.type.type);
    if (!type.ok()) return std::move(type).error().context("export " + exp.type.name);
    info.exports.push_back({exp.type.name, *type});
  }
  return info;
}

}  // namespace stratus::engine
