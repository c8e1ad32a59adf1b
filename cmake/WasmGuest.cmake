# Builds C guest programs for wasm32-wasi (WASI preview 1 commands) with
# clang-19 and Debian's wasi-libc, the same way for examples, tests and benches.
#
#   add_wasm32_wasi_program(<target> <sources>... [OUTPUT <file.wasm>] [FLAGS <clang flags>...])
#
# Makes a custom target <target> (part of ALL) that produces OUTPUT (default:
# ${CMAKE_CURRENT_BINARY_DIR}/<target>.wasm) and records the path in the
# target's WASM_FILE property. Sources are compiled with -O2 and warnings as errors.
include_guard(GLOBAL)

find_program(STRATUS_WASM_CC NAMES clang-19 clang REQUIRED)
set(STRATUS_WASI_SYSROOT "/usr" CACHE PATH "Sysroot holding wasi-libc (include/wasm32-wasi, lib/wasm32-wasi)")

function(add_wasm32_wasi_program target)
  cmake_parse_arguments(ARG "" "OUTPUT" "FLAGS" ${ARGN})
  set(sources ${ARG_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "add_wasm32_wasi_program(${target}): no sources")
  endif()
  if(NOT ARG_OUTPUT)
    set(ARG_OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/${target}.wasm")
  endif()
  set(abs_sources)
  foreach(src IN LISTS sources)
    get_filename_component(abs "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND abs_sources "${abs}")
  endforeach()
  stratus_guest_from_other_build("${ARG_OUTPUT}" copied)
  if(NOT copied)
    # One clang call compiles and links; the depfile makes header edits rebuild.
    add_custom_command(
      OUTPUT "${ARG_OUTPUT}"
      COMMAND "${STRATUS_WASM_CC}" --target=wasm32-wasi "--sysroot=${STRATUS_WASI_SYSROOT}"
              -O2 -Wall -Wextra -Werror -Wl,--strip-debug ${ARG_FLAGS} -MD -MF "${ARG_OUTPUT}.d"
              -o "${ARG_OUTPUT}" ${abs_sources}
      DEPENDS ${abs_sources}
      DEPFILE "${ARG_OUTPUT}.d"
      COMMENT "Building wasm32-wasi program ${target}"
      VERBATIM)
  endif()
  add_custom_target(${target} ALL DEPENDS "${ARG_OUTPUT}")
  set_target_properties(${target} PROPERTIES WASM_FILE "${ARG_OUTPUT}")
endfunction()

# Adapts a WASI preview 1 command module into a wasi:cli/command component
# with jco's preview1 adapter (`jco new --wasi-command`).
#
#   add_wasi_command_component(<target> <input.wasm> OUTPUT <file.wasm> [DEPENDS <targets>...])
function(add_wasi_command_component target input)
  cmake_parse_arguments(ARG "" "OUTPUT" "DEPENDS" ${ARGN})
  stratus_guest_from_other_build("${ARG_OUTPUT}" copied)
  if(NOT copied)
    add_custom_command(
      OUTPUT "${ARG_OUTPUT}"
      COMMAND "${STRATUS_JCO}" new "${input}" --wasi-command -o "${ARG_OUTPUT}"
      DEPENDS "${input}" ${ARG_DEPENDS}
      COMMENT "jco new --wasi-command ${target}"
      VERBATIM)
  endif()
  add_custom_target(${target} ALL DEPENDS "${ARG_OUTPUT}")
  set_target_properties(${target} PROPERTIES WASM_FILE "${ARG_OUTPUT}")
endfunction()
