# Turns component text (.wat with `(component ...)`) into binary components
# with jco's parser (npm @bytecodealliance/jco, installed by ./x deps), for
# test fixtures built by the project rather than committed as binaries.
#
#   add_component_from_text(<target> <file.wat> [OUTPUT <file.wasm>])
#
# Makes a custom target <target> (part of ALL) producing OUTPUT (default:
# ${CMAKE_CURRENT_BINARY_DIR}/<target>.wasm), recorded in the target's
# WASM_FILE property.
include_guard(GLOBAL)

set(STRATUS_JCO "${PROJECT_SOURCE_DIR}/node_modules/.bin/jco" CACHE FILEPATH "jco (npm @bytecodealliance/jco)")

function(add_component_from_text target source)
  cmake_parse_arguments(ARG "" "OUTPUT" "" ${ARGN})
  if(NOT ARG_OUTPUT)
    set(ARG_OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/${target}.wasm")
  endif()
  get_filename_component(abs "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  stratus_guest_from_other_build("${ARG_OUTPUT}" copied)
  if(NOT copied)
    add_custom_command(
      OUTPUT "${ARG_OUTPUT}"
      COMMAND "${STRATUS_JCO}" parse "${abs}" -o "${ARG_OUTPUT}"
      DEPENDS "${abs}"
      COMMENT "jco parse ${source}"
      VERBATIM)
  endif()
  add_custom_target(${target} ALL DEPENDS "${ARG_OUTPUT}")
  set_target_properties(${target} PROPERTIES WASM_FILE "${ARG_OUTPUT}")
endfunction()
