// Test helper: a component read from a file and decoded, with an error that
// names the file.
#pragma once

#include <filesystem>

#include "component/binary/decoder.h"
#include "support/file.h"

namespace stratus::testing {

inline Result<component::ComponentPtr> read_component(const std::filesystem::path& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return std::move(bytes).error();
  auto component = component::decode_component(*bytes);
  if (!component.ok()) return std::move(component).error().context(path.string());
  return *component;
}

}  // namespace stratus::testing
