// What an import defined by Linker::define_lazy_export receives: functions
// that make the exporting instance on their first call and forward to its
// own from then on. Private to runtime/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/runtime/instance_state.h"

namespace stratus::component {

struct LazyExportState {
  explicit LazyExportState(LazyExport l) : lazy(std::move(l)) {}
  LazyExport lazy;
  std::shared_ptr<ComponentInstance> instance;  // once made
  std::optional<RtItem> item;                   // what importers get, made once (lazy_item)
  // The resource types the export gives, by path ("iface#name"): handed
  // out as placeholders before the instance exists, settled when it is
  // made (ResourceType::stands_for).
  std::vector<std::pair<std::string, std::shared_ptr<ResourceType>>> placeholders;

  // The instance, made on the first use.
  Result<std::shared_ptr<ComponentInstance>> get();
};

// The export's type in `lazy.component`; nullopt when it has none of that name.
std::optional<ExternType> lazy_export_type(const LazyExport& lazy);

// What an importer gets for the export of `state`: functions that make the
// instance on their first call, and placeholders for the resource types it
// exports. The instance is made now instead when the export's functions
// involve resource types it does not export itself (its own imports'), or
// it exports nested instances or components. `state` must outlive the item: the
// importer keeps it (Linker::instantiate).
Result<RtItem> lazy_item(LazyExportState& state);

}  // namespace stratus::component
