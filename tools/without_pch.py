#!/usr/bin/env python3
"""without_pch.py IN OUT: a copy of the compile database IN (compile_commands.json)
with the precompiled-header flags CMake adds taken out, for clang-tidy
(./x lint): it must not read a PCH made by another clang, and each file is
checked with the headers it includes itself."""
import json
import shlex
import sys


def strip(argv):
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        # -Xclang -include-pch -Xclang F, -Xclang -include -Xclang F (cmake_pch.hxx)
        if a == "-Xclang" and i + 3 < len(argv) and argv[i + 1] in ("-include-pch", "-include") \
                and argv[i + 2] == "-Xclang" and "cmake_pch" in argv[i + 3]:
            i += 4
            continue
        if a == "-Xclang" and i + 1 < len(argv) and argv[i + 1] == "-fno-pch-timestamp":
            i += 2
            continue
        if a in ("-Winvalid-pch", "-fpch-instantiate-templates"):
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def main():
    with open(sys.argv[1]) as f:
        db = json.load(f)
    for e in db:
        if "arguments" in e:
            e["arguments"] = strip(e["arguments"])
        else:
            e["command"] = shlex.join(strip(shlex.split(e["command"])))
    with open(sys.argv[2], "w") as f:
        json.dump(db, f, indent=1)


main()
