//===- Safetensors.cpp - .safetensors weight files ------------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "Runtime/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"

#include <algorithm>

using namespace mlir::seqc;
using llvm::StringRef;

namespace {
llvm::Error fail(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

struct DTypeInfo {
  StringRef name;
  size_t size;
  std::optional<DType> dtype;
};

const DTypeInfo kDTypes[] = {
    {"F64", 8, DType::F64}, {"F32", 4, DType::F32}, {"F16", 2, DType::F16},
    {"BF16", 2, DType::BF16}, {"I64", 8, DType::I64}, {"I32", 4, DType::I32},
    {"I16", 2, std::nullopt}, {"I8", 1, DType::I8}, {"U64", 8, std::nullopt},
    {"U32", 4, std::nullopt}, {"U16", 2, std::nullopt}, {"U8", 1, std::nullopt},
    {"BOOL", 1, DType::I1}};

std::string formatDims(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
}
} // namespace

llvm::Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot open: " + buffer.getError().message());
  auto file = std::make_unique<SafetensorsFile>();
  file->filePath = path.str();
  file->mapping = std::move(*buffer);
  StringRef bytes = file->mapping->getBuffer();
  if (bytes.size() < 8)
    return fail(path, "not a safetensors file: " + llvm::Twine(bytes.size()) +
                          " bytes, shorter than the 8-byte header length");
  uint64_t headerSize =
      llvm::support::endian::read64le(bytes.data());
  if (headerSize > bytes.size() - 8)
    return fail(path, "header length " + llvm::Twine(headerSize) +
                          " runs past the end of the file (" +
                          llvm::Twine(bytes.size()) + " bytes)");
  StringRef headerText = bytes.substr(8, headerSize);
  StringRef data = bytes.substr(8 + headerSize);
  auto header = llvm::json::parse(headerText);
  if (!header)
    return fail(path, "header is not valid JSON: " +
                          llvm::toString(header.takeError()));
  const llvm::json::Object *object = header->getAsObject();
  if (!object)
    return fail(path, "header is not a JSON object");

  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto &[key, value] : *object) {
    StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *meta = value.getAsObject();
      if (!meta)
        return fail(path, "__metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : *meta) {
        auto text = metaValue.getAsString();
        if (!text)
          return fail(path, "__metadata__['" + StringRef(metaKey) +
                                "'] is not a string");
        file->meta[metaKey] = text->str();
      }
      continue;
    }
    auto where = [&](const llvm::Twine &message) {
      return fail(path, "tensor '" + name + "': " + message);
    };
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return where("entry is not an object");
    Tensor tensor;
    tensor.name = name.str();
    auto dtype = entry->getString("dtype");
    if (!dtype)
      return where("no dtype");
    const DTypeInfo *info = llvm::find_if(
        kDTypes, [&](const DTypeInfo &d) { return d.name == *dtype; });
    if (info == std::end(kDTypes))
      return where("unknown dtype '" + *dtype + "'");
    tensor.dtypeName = dtype->str();
    tensor.dtype = info->dtype;
    const llvm::json::Array *shape = entry->getArray("shape");
    if (!shape)
      return where("no shape");
    int64_t elements = 1;
    for (const llvm::json::Value &dim : *shape) {
      auto size = dim.getAsInteger();
      if (!size || *size < 0)
        return where("shape entries must be non-negative integers");
      tensor.shape.push_back(*size);
      elements *= *size;
    }
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    std::optional<int64_t> begin, end;
    if (offsets && offsets->size() == 2) {
      begin = (*offsets)[0].getAsInteger();
      end = (*offsets)[1].getAsInteger();
    }
    if (!begin || !end || *begin < 0 || *end < *begin)
      return where("data_offsets must be [begin, end] with 0 <= begin <= end");
    if (static_cast<uint64_t>(*end) > data.size())
      return where("data_offsets [" + llvm::Twine(*begin) + ", " +
                   llvm::Twine(*end) + "] run past the end of the data (" +
                   llvm::Twine(data.size()) + " bytes)");
    size_t expected = elements * info->size;
    if (static_cast<size_t>(*end - *begin) != expected)
      return where("holds " + llvm::Twine(*end - *begin) + " bytes, but " +
                   tensor.dtypeName + formatDims(tensor.shape) + " needs " +
                   llvm::Twine(expected));
    tensor.data = data.data() + *begin;
    tensor.bytes = expected;
    tensor.strides.resize(tensor.shape.size());
    int64_t stride = 1;
    for (size_t d = tensor.shape.size(); d-- > 0;) {
      tensor.strides[d] = stride;
      stride *= tensor.shape[d];
    }
    if (expected > 0)
      ranges.push_back({static_cast<size_t>(*begin), static_cast<size_t>(*end)});
    file->index[tensor.name] = file->list.size();
    file->list.push_back(std::move(tensor));
  }
  llvm::sort(ranges);
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      return fail(path, "tensors overlap in the data (bytes " +
                            llvm::Twine(ranges[i].first) + " to " +
                            llvm::Twine(ranges[i - 1].second) + ")");
  // Header order is JSON object order: list tensors by name.
  llvm::sort(file->list, [](const Tensor &a, const Tensor &b) {
    return a.name < b.name;
  });
  for (auto [i, tensor] : llvm::enumerate(file->list))
    file->index[tensor.name] = i;
  return file;
}

const SafetensorsFile::Tensor *
SafetensorsFile::lookup(StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &list[it->second];
}

const std::string *SafetensorsFile::metadata(StringRef key) const {
  auto it = meta.find(key);
  return it == meta.end() ? nullptr : &it->second;
}

llvm::Expected<BufferRef>
SafetensorsFile::buffer(StringRef name, const TensorSpec &expected) const {
  const Tensor *tensor = lookup(name);
  if (!tensor) {
    // The closest names, by edit distance.
    std::vector<std::pair<unsigned, StringRef>> near;
    for (const Tensor &t : list)
      near.push_back({name.edit_distance(t.name), t.name});
    llvm::sort(near);
    std::string hint;
    for (size_t i = 0; i < near.size() && i < 3; ++i)
      hint += (i ? ", '" : " (closest: '") + near[i].second.str() + "'";
    if (!hint.empty())
      hint += ")";
    return fail(filePath, "no tensor '" + name + "'" + hint);
  }
  std::string want = formatSpec(expected);
  if (!tensor->dtype || *tensor->dtype != expected.dtype ||
      llvm::ArrayRef<int64_t>(tensor->shape) !=
          llvm::ArrayRef<int64_t>(expected.shape))
    return fail(filePath, "tensor '" + name + "' is " + tensor->dtypeName +
                              formatDims(tensor->shape) + ", expected " +
                              want);
  return BufferRef{const_cast<char *>(tensor->data), expected.dtype,
                   tensor->shape, tensor->strides, /*device=*/false};
}
