# CMake initial cache of the ThreadSanitizer build (build-tsan/, used by
# scripts/test-threads.sh): seqc instrumented with -fsanitize=thread and
# linked against the shared TSan runtime, which Python preloads.
set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "")
set(LLVM_USE_SANITIZER "Thread" CACHE STRING "")
execute_process(COMMAND clang-22 -print-file-name=libclang_rt.tsan-x86_64.so
                OUTPUT_VARIABLE tsan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
get_filename_component(tsan_dir "${tsan_runtime}" DIRECTORY)
set(CMAKE_EXE_LINKER_FLAGS "-shared-libsan -Wl,-rpath,${tsan_dir}" CACHE STRING "")
set(CMAKE_SHARED_LINKER_FLAGS "-shared-libsan -Wl,-rpath,${tsan_dir}" CACHE STRING "")
