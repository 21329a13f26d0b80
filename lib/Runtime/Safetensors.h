//===- Safetensors.h - .safetensors weight files ----------------*- C++ -*-===//
//
// Part of seqc. Reads the `.safetensors` format that PyTorch and Hugging Face
// users keep their weights in: an 8-byte little-endian header length N, N
// bytes of JSON mapping each tensor name to {"dtype", "shape",
// "data_offsets": [begin, end]} (offsets into the byte buffer that follows;
// an optional "__metadata__" maps strings to strings), then the buffer.
//
// The file is memory-mapped; tensors are views into the mapping (row-major,
// little-endian), valid while the SafetensorsFile lives. Every malformed
// header, out-of-range or overlapping offset, size that does not match the
// shape, and dtype seqc cannot pass is an error naming the file and the
// tensor. No MLIR dependency: LLVM Support and Compiler.h's DType enum,
// header-only.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_LIB_RUNTIME_SAFETENSORS_H
#define SEQC_LIB_RUNTIME_SAFETENSORS_H

#include "seqc/Compiler/Compiler.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::seqc {

class SafetensorsFile {
public:
  struct Tensor {
    std::string name;
    /// The file's dtype string ("F32", "BF16", "U8", ...).
    std::string dtypeName;
    /// seqc's dtype, when seqc passes this one across its interface.
    std::optional<DType> dtype;
    llvm::SmallVector<int64_t> shape;
    /// Row-major strides in elements.
    llvm::SmallVector<int64_t> strides;
    const char *data;
    size_t bytes;
  };

  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);

  const std::vector<Tensor> &tensors() const { return list; }
  /// The tensor called `name`, or null.
  const Tensor *lookup(llvm::StringRef name) const;
  /// `__metadata__[key]`, or null.
  const std::string *metadata(llvm::StringRef key) const;

  /// The tensor `name` as a buffer of `expected`'s dtype and shape, or an
  /// error naming the file, the tensor and what differs (a missing name
  /// lists the closest names in the file).
  llvm::Expected<BufferRef> buffer(llvm::StringRef name,
                                   const TensorSpec &expected) const;

  llvm::StringRef path() const { return filePath; }

private:
  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> mapping;
  std::vector<Tensor> list;
  llvm::StringMap<size_t> index;
  llvm::StringMap<std::string> meta;
};

} // namespace mlir::seqc

#endif // SEQC_LIB_RUNTIME_SAFETENSORS_H
