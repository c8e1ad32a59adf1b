# C++ guest components built by the build: a world file, C++ sources written
# against the guest bindings `stratus bindgen --guest cpp` generates for it,
# compiled with clang++-19 for wasm32-wasi, the world embedded
# (jco_embed_root.mjs) and made a component (`jco new --wasi-reactor`).
#
#   add_cpp_guest_component(<target> WIT <world.wit> WORLD <name> SOURCES <file>...
#                           OUTPUT <file.wasm> [BINDINGS <base>] [DEPENDS <file>...])
#
# The world file may use any WASI 0.2 package: the build puts jco's 0.2.12
# packages in deps/ beside a copy of it. The sources include "<base>.h"
# (BINDINGS, default: the world's name with '-' as '_', then "_bindings").
# Makes a custom target <target> (part of ALL) whose WASM_FILE property is OUTPUT.
include_guard(GLOBAL)

find_program(STRATUS_WASM_CXX NAMES clang++-19 clang++ REQUIRED)
find_program(STRATUS_NODE node REQUIRED)
set(STRATUS_WASI_P2_WIT_DIR "${PROJECT_SOURCE_DIR}/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12")
set(STRATUS_WASI_P2_PACKAGES io clocks random cli filesystem sockets http)

function(add_cpp_guest_component target)
  cmake_parse_arguments(ARG "" "WIT;WORLD;OUTPUT;BINDINGS" "SOURCES;DEPENDS" ${ARGN})
  if(NOT ARG_WIT OR NOT ARG_WORLD OR NOT ARG_SOURCES OR NOT ARG_OUTPUT)
    message(FATAL_ERROR "add_cpp_guest_component(${target}): WIT, WORLD, SOURCES and OUTPUT are required")
  endif()
  if(NOT ARG_BINDINGS)
    string(REPLACE "-" "_" ARG_BINDINGS "${ARG_WORLD}_bindings")
  endif()
  get_filename_component(wit "${ARG_WIT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(work "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(root "${work}/wit")
  get_filename_component(wit_name "${wit}" NAME)
  configure_file("${wit}" "${root}/${wit_name}" COPYONLY)
  set(wit_files "${wit}")
  foreach(pkg IN LISTS STRATUS_WASI_P2_PACKAGES)
    configure_file("${STRATUS_WASI_P2_WIT_DIR}/wasi-${pkg}/package.wit" "${root}/deps/wasi-${pkg}.wit" COPYONLY)
    list(APPEND wit_files "${STRATUS_WASI_P2_WIT_DIR}/wasi-${pkg}/package.wit")
  endforeach()
  set(sources)
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(abs "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND sources "${abs}")
  endforeach()

  stratus_guest_from_other_build("${ARG_OUTPUT}" copied)
  if(NOT copied)
    set(gen "${work}/bindings")
    set(core "${work}/${target}.core.wasm")
    set(embedded "${work}/${target}.embedded.wasm")
    add_custom_command(
      OUTPUT "${gen}/${ARG_BINDINGS}.h" "${gen}/${ARG_BINDINGS}.cc"
      COMMAND $<TARGET_FILE:stratus-bindgen> bindgen --guest cpp "${root}" --world "${ARG_WORLD}" --out "${gen}"
        --name "${ARG_BINDINGS}"
      DEPENDS stratus-bindgen ${wit_files}
      COMMENT "stratus bindgen --guest cpp ${ARG_WORLD} -> ${ARG_BINDINGS}"
      VERBATIM)
    add_custom_command(
      OUTPUT "${core}"
      COMMAND "${STRATUS_WASM_CXX}" --target=wasm32-wasi "--sysroot=${STRATUS_WASI_SYSROOT}" -std=c++23 -fno-exceptions
        -O2 -Wall -Wextra -Werror -mexec-model=reactor -Wl,--strip-debug -I "${gen}" -MD -MF "${core}.d" -o "${core}"
        ${sources} "${gen}/${ARG_BINDINGS}.cc"
      DEPENDS ${sources} "${gen}/${ARG_BINDINGS}.h" "${gen}/${ARG_BINDINGS}.cc" ${ARG_DEPENDS}
      DEPFILE "${core}.d"
      COMMENT "Building the C++ guest ${target}"
      VERBATIM)
    add_custom_command(
      OUTPUT "${ARG_OUTPUT}"
      COMMAND "${STRATUS_NODE}" "${PROJECT_SOURCE_DIR}/cmake/jco_embed_root.mjs" "${root}" "${ARG_WORLD}" "${core}"
        "${embedded}"
      COMMAND "${STRATUS_JCO}" new "${embedded}" --wasi-reactor -o "${ARG_OUTPUT}"
      DEPENDS "${core}" "${PROJECT_SOURCE_DIR}/cmake/jco_embed_root.mjs" ${wit_files}
      COMMENT "jco embed + jco new --wasi-reactor ${target}"
      VERBATIM)
  endif()
  add_custom_target(${target} ALL DEPENDS "${ARG_OUTPUT}")
  set_target_properties(${target} PROPERTIES WASM_FILE "${ARG_OUTPUT}")
endfunction()
