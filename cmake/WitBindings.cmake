# Host bindings generated from WIT by the build (`stratus bindgen --host`).
#
#   stratus_host_bindings(<target> WIT <file-or-folder> WORLD <world> NAME <base>
#                         [INTERFACES <iface>...] [DEFERRED <iface>...] [DEPENDS <files>...])
#
# Makes a static library <target> from the generated <base>.cc, with
# <base>.h on its include path; it is regenerated when the WIT or stratus
# generator changes. DEFERRED interfaces' functions are answered later,
# through a Reply (`--deferred`).
include_guard(GLOBAL)

function(stratus_host_bindings target)
  cmake_parse_arguments(ARG "" "WIT;WORLD;NAME;NAMESPACE" "INTERFACES;DEFERRED;DEPENDS" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(only)
  foreach(i IN LISTS ARG_INTERFACES)
    list(APPEND only --interface "${i}")
  endforeach()
  foreach(i IN LISTS ARG_DEFERRED)
    list(APPEND only --deferred "${i}")
  endforeach()
  if(ARG_NAMESPACE)
    list(APPEND only --namespace "${ARG_NAMESPACE}")
  endif()
  add_custom_command(
    OUTPUT "${out}/${ARG_NAME}.h" "${out}/${ARG_NAME}.cc"
    COMMAND $<TARGET_FILE:stratus-bindgen> bindgen --host "${ARG_WIT}" --world "${ARG_WORLD}" --out "${out}"
      --name "${ARG_NAME}" ${only}
    DEPENDS stratus-bindgen "${ARG_WIT}" ${ARG_DEPENDS}
    COMMENT "stratus bindgen --host ${ARG_WORLD} -> ${ARG_NAME}"
    VERBATIM)
  add_library(${target} STATIC "${out}/${ARG_NAME}.cc")
  target_include_directories(${target} PUBLIC "${out}")
  target_link_libraries(${target} PUBLIC stratus_wit stratus_component_runtime stratus_component_binary)
  # The sanitizer builds compile this glue (one large file of thin calls)
  # without optimization: with a sanitizer's instrumentation -O1 took 1.8x
  # the CPU of -O0 on it (WASI 0.3's under TSan: 25.8 s against 14.4 s),
  # and the sanitizer checks it all the same.
  if(STRATUS_INSTRUMENTED)
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()
