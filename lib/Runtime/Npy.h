//===- Npy.h - NumPy .npy files: read and write -----------------*- C++ -*-===//
//
// Part of seqc. Reads and writes single arrays in NumPy's .npy format
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html)
// for the dtypes seqc passes across its interface. No MLIR dependency: only
// LLVM Support (Error, MemoryBuffer) and the DType enum of Compiler.h, used
// header-only (nothing from SeqcCompiler is linked).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, C order, little-endian
// (or byte-order-free) dtypes:
//
//   '<f4' f32   '<f8' f64   '<f2' f16   '<i4' i32   '<i8' i64
//   '|i1' i8    '|b1' i1 (one byte per element, 0 or 1)
//
// bf16 has no .npy dtype. Fortran order, big-endian and every other dtype are
// errors; so is any malformed file. Error messages start with the file name.
//
// Writing produces version 1.0 (2.0 only if the header would not fit), the
// header padded so that the data starts at a multiple of 64 bytes, C order.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_LIB_RUNTIME_NPY_H
#define SEQC_LIB_RUNTIME_NPY_H

#include "seqc/Compiler/Compiler.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::seqc {

/// One array: dtype, shape (empty for 0-d) and its elements in C order, in
/// the host's byte order (i1 as one byte, 0 or 1).
struct NpyArray {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;

  /// The number of elements (1 for 0-d).
  int64_t numElements() const;
};

/// The .npy descriptor of `dtype` ("<f4", "|b1", ...); empty for bf16.
llvm::StringRef npyDescr(DType dtype);

/// Reads the .npy file at `path`.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Parses the bytes of a .npy file; `name` starts error messages.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// The bytes of a .npy file holding `shape` elements of `dtype` read from
/// `data` (C order, host byte order).
llvm::Expected<std::string> encodeNpy(DType dtype,
                                      llvm::ArrayRef<int64_t> shape,
                                      const void *data);

/// Writes a .npy file at `path` (see encodeNpy).
llvm::Error writeNpy(llvm::StringRef path, DType dtype,
                     llvm::ArrayRef<int64_t> shape, const void *data);

} // namespace mlir::seqc

#endif // SEQC_LIB_RUNTIME_NPY_H
