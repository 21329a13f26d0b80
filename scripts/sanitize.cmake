# CMake initial cache of the sanitized build (build-sanitize/, used by
# scripts/fuzz.sh and scripts/test-sanitized.sh): ASan + UBSan with libFuzzer
# coverage everywhere, the fuzzer target, and the shared sanitizer runtime
# in every binary and library (so that Python, which preloads it, and the
# tools the tests spawn all use one runtime).
set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "")
set(LLVM_USE_SANITIZER "Address;Undefined" CACHE STRING "")
set(LLVM_USE_SANITIZE_COVERAGE ON CACHE BOOL "")
set(SEQC_FUZZER ON CACHE BOOL "")
execute_process(COMMAND clang-22 -print-file-name=libclang_rt.asan-x86_64.so
                OUTPUT_VARIABLE asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
get_filename_component(asan_dir "${asan_runtime}" DIRECTORY)
set(CMAKE_EXE_LINKER_FLAGS "-shared-libsan -Wl,-rpath,${asan_dir}" CACHE STRING "")
set(CMAKE_SHARED_LINKER_FLAGS "-shared-libsan -Wl,-rpath,${asan_dir}" CACHE STRING "")
