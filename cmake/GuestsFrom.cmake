# Guests (wasm files the build makes: C and C++ guests, components from text,
# adapted commands, `stratus build` projects) do not depend on how the host
# is compiled. A build of the tests under a sanitizer may take them from the
# main build instead of compiling them again (clang for wasm32 and jco are
# not cached by ccache, and they cost minutes on 2 cores):
#
#   -DSTRATUS_GUESTS_FROM=<build folder of this source tree, built first>
#
#   stratus_guest_from_other_build(<output> <result-var>)
#     With STRATUS_GUESTS_FROM set: adds the command that copies that
#     folder's file at OUTPUT's path (relative to this build folder) to
#     OUTPUT, and sets <result-var> TRUE, so the caller adds no command of
#     its own. Otherwise sets it FALSE.
include_guard(GLOBAL)

set(STRATUS_GUESTS_FROM "" CACHE PATH "A build folder of this source tree whose guests (wasm files) this build copies")

function(stratus_guest_from_other_build output result_var)
  if(NOT STRATUS_GUESTS_FROM)
    set(${result_var} FALSE PARENT_SCOPE)
    return()
  endif()
  file(RELATIVE_PATH rel "${PROJECT_BINARY_DIR}" "${output}")
  if(rel MATCHES "^\\.\\./")
    message(FATAL_ERROR "stratus_guest_from_other_build: ${output} is outside the build folder")
  endif()
  set(from "${STRATUS_GUESTS_FROM}/${rel}")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -E copy "${from}" "${output}"
    DEPENDS "${from}"
    COMMENT "Copying the guest ${rel} from ${STRATUS_GUESTS_FROM}"
    VERBATIM)
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()
