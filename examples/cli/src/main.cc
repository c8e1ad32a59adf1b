// A command-line program: counts the lines, words and bytes of each file it
// is given, or of its standard input, like wc. `stratus run` runs it; a file
// is readable only inside a folder granted with --dir:
//   stratus run --dir .::/work build/cli.wasm /work/notes.txt
// It is a plain WASI program (main, <cstdio>) that `stratus build` makes a
// wasi:cli/command component with the preview 1 adapter.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

struct Counts {
  unsigned long long lines = 0, words = 0, bytes = 0;
};

Counts count(std::FILE* in) {
  Counts c;
  bool in_word = false;
  for (int ch; (ch = std::fgetc(in)) != EOF;) {
    ++c.bytes;
    if (ch == '\n') ++c.lines;
    bool space = std::isspace(ch) != 0;
    if (!space && !in_word) ++c.words;
    in_word = !space;
  }
  return c;
}

void print(const Counts& c, const char* name) {
  std::printf("%7llu %7llu %7llu%s%s\n", c.lines, c.words, c.bytes, name[0] != '\0' ? " " : "", name);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print(count(stdin), "");
    return 0;
  }
  Counts total;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::FILE* f = std::fopen(argv[i], "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "cli: %s: %s\n", argv[i], std::strerror(errno));
      status = 1;
      continue;
    }
    Counts c = count(f);
    std::fclose(f);
    print(c, argv[i]);
    total.lines += c.lines;
    total.words += c.words;
    total.bytes += c.bytes;
  }
  if (argc > 2) print(total, "total");
  return status;
}
