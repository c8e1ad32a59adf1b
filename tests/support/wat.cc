#include "tests/support/wat.h"

#include <wabt/binary-writer.h>
#include <wabt/error-formatter.h>
#include <wabt/feature.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/validator.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

#include <memory>

namespace stratus::testing {

Result<std::vector<uint8_t>> wat_to_wasm(std::string_view text, WatFeatures which) {
  wabt::Features features;  // wabt's defaults: the WebAssembly 2.0 feature set
  if (which == WatFeatures::All) features.EnableAll();
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer("test.wat", text.data(), text.size(), &errors);
  std::unique_ptr<wabt::Module> module;
  wabt::WastParseOptions parse_options(features);
  auto fail = [&] { return make_error(wabt::FormatErrorsToString(errors, wabt::Location::Type::Text)); };
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options))) return fail();
  wabt::ValidateOptions validate_options(features);
  if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, validate_options))) return fail();
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions write_options(features, true, false, false);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
    return make_error("wabt could not write the binary module");
  }
  return std::vector<uint8_t>(stream.output_buffer().data);
}

}  // namespace stratus::testing
