// The conventional layout of WIT on disk (WIT.md "Filesystem structure").
#include <algorithm>
#include <system_error>

#include "support/file.h"
#include "wit/parser.h"

namespace stratus::wit {
namespace {

namespace fs = std::filesystem;

Result<File> parse_path(const fs::path& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return std::move(bytes).error();
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  return parse_file(text, path.string());
}

bool has_items(const PackageBody& b) { return !b.items.empty(); }

void add_nested(const File& f, std::vector<ParsedPackage>& out) {
  for (const auto& body : f.nested) out.push_back(ParsedPackage{*body.name, {body}, {f.path}});
}

// The *.wit files of `dir` as one package, plus the packages nested in them.
Result<std::vector<ParsedPackage>> parse_folder(const fs::path& dir) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".wit") paths.push_back(e.path());
  if (ec) return make_error(dir.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) return make_error(dir.string() + ": no .wit files");
  std::vector<File> files;
  for (const auto& p : paths) {
    auto f = parse_path(p);
    if (!f.ok()) return std::move(f).error();
    files.push_back(std::move(*f));
  }
  std::vector<ParsedPackage> out(1);
  ParsedPackage& main = out[0];
  const File* named_by = nullptr;
  for (const auto& f : files) {
    if (!f.top.name) continue;
    if (named_by == nullptr) {
      main.name = *f.top.name;
      named_by = &f;
    } else if (f.top.name->to_string() != main.name.to_string()) {
      return make_error(f.path + ":" + std::to_string(f.top.name->pos.line) + ":" +
                        std::to_string(f.top.name->pos.column) + ": package `" + f.top.name->to_string() +
                        "` differs from `" + main.name.to_string() + "` declared in " + named_by->path);
    }
  }
  bool any_items = std::any_of(files.begin(), files.end(), [](const File& f) { return has_items(f.top); });
  if (named_by == nullptr && any_items)
    return make_error(dir.string() + ": no file declares the package (`package ns:name;`)");
  for (const auto& f : files) {
    if (has_items(f.top) || f.top.name) {
      main.bodies.push_back(f.top);
      main.files.push_back(f.path);
    }
  }
  if (named_by == nullptr) out.clear();
  for (const auto& f : files) add_nested(f, out);
  return out;
}

Result<std::vector<ParsedPackage>> parse_single(const fs::path& path) {
  auto f = parse_path(path);
  if (!f.ok()) return std::move(f).error();
  return packages_of(*f);
}

}  // namespace

Result<std::vector<ParsedPackage>> packages_of(const File& file) {
  const File* f = &file;
  std::vector<ParsedPackage> out;
  if (f->top.name) {
    out.push_back(ParsedPackage{*f->top.name, {f->top}, {f->path}});
  } else if (has_items(f->top)) {
    return make_error(f->path +
                      ":1:1: a WIT file with items outside `package { }` blocks must start with "
                      "`package ns:name;`");
  }
  add_nested(*f, out);
  // The root package of a single file is its own, or else its last block.
  if (!f->top.name && !out.empty()) std::rotate(out.begin(), out.end() - 1, out.end());
  for (auto& p : out) {
    inherit_gates(p);
    STRATUS_TRY(check_gates(p));
  }
  return out;
}

Result<std::vector<ParsedPackage>> parse_root(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    auto single = parse_single(root);
    if (!single.ok()) return std::move(single).error();
    if (single->empty()) return make_error(root.string() + ": defines no package");
    return single;
  }
  auto packages = parse_folder(root);
  if (!packages.ok()) return std::move(packages).error();
  if (packages->empty()) return make_error(root.string() + ": defines no package");
  for (auto& p : *packages) {
    inherit_gates(p);
    STRATUS_TRY(check_gates(p));
  }
  fs::path deps = root / "deps";
  if (fs::is_directory(deps, ec)) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(deps, ec)) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      Result<std::vector<ParsedPackage>> dep = fs::is_directory(e, ec) ? parse_folder(e)
                                               : e.extension() == ".wit"
                                                   ? parse_single(e)
                                                   : Result<std::vector<ParsedPackage>>(std::vector<ParsedPackage>{});
      if (!dep.ok()) return std::move(dep).error();
      for (auto& p : *dep) {
        inherit_gates(p);
        STRATUS_TRY(check_gates(p));
        packages->push_back(std::move(p));
      }
    }
  }
  return packages;
}

}  // namespace stratus::wit
