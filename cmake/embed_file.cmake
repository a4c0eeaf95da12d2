# Turns a file into a C++ source fragment defining `constexpr char NAME[] = {...};` with the
# file's bytes (no terminating NUL). A byte list, unlike a raw string literal, cannot collide
# with any delimiter in the content.
# Usage: cmake -DINPUT=<file> -DOUTPUT=<file.inc> -DNAME=<identifier> -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
if(hex_length EQUAL 0)
  message(FATAL_ERROR "embed_file: ${INPUT} is empty")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# Twenty bytes per line keep the generated file readable in a debugger.
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){20})" "\\1\n" bytes "${bytes}")
set(content "// Generated from ${INPUT} by cmake/embed_file.cmake; do not edit.\nconstexpr char ${NAME}[] = {\n${bytes}\n};\n")
# Rewrite only on change, so an untouched template does not trigger recompiles.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
