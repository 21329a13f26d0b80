//===- Npy.cpp - NumPy .npy files: read and write -------------------------===//
//
// Part of seqc. A .npy file is the magic "\x93NUMPY", a major and a minor
// version byte, the header length (2 bytes little-endian in version 1.0, 4
// in 2.0 and 3.0), the header -- a Python dict literal such as
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
// spaces and ended by '\n' -- and then the raw elements.
//
// Everything read from the file is checked before it is used: lengths
// against the file size, the element count against overflow, and the
// header by a small parser of exactly the literal forms NumPy writes
// (strings, True/False, tuples of integers).
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SwapByteOrder.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

using namespace mlir::seqc;
using llvm::ArrayRef;
using llvm::StringRef;

namespace {

llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 llvm::Twine(message));
}

const char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

struct DTypeInfo {
  DType dtype;
  const char *descr;
  const char *name;
  size_t size;
};

const DTypeInfo kDTypes[] = {
    {DType::F32, "<f4", "f32", 4}, {DType::F64, "<f8", "f64", 8},
    {DType::F16, "<f2", "f16", 2}, {DType::I32, "<i4", "i32", 4},
    {DType::I64, "<i8", "i64", 8}, {DType::I8, "|i1", "i8", 1},
    {DType::I1, "|b1", "i1", 1},
};

const DTypeInfo *infoOf(DType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return &info;
  return nullptr;
}

std::string supportedList() {
  std::string list;
  for (const DTypeInfo &info : kDTypes) {
    if (!list.empty())
      list += ", ";
    list += std::string("'") + info.descr + "' (" + info.name + ")";
  }
  return list;
}

/// The supported dtype spelled `descr`. One-byte types have no byte order,
/// so any of '|', '<', '>' and '=' is accepted for them.
const DTypeInfo *lookupDescr(StringRef descr) {
  for (const DTypeInfo &info : kDTypes)
    if (descr == info.descr)
      return &info;
  if (descr.size() == 3 &&
      (descr[0] == '<' || descr[0] == '>' || descr[0] == '='))
    for (const DTypeInfo &info : kDTypes)
      if (info.size == 1 && descr.substr(1) == StringRef(info.descr).substr(1))
        return &info;
  return nullptr;
}

/// Why `descr` is not supported, with a hint where there is one.
std::string unsupportedDescr(StringRef descr) {
  std::string message = "unsupported dtype '" + descr.str() + "'";
  if (descr.size() > 1 && descr[0] == '>') {
    std::string little = "<" + descr.substr(1).str();
    if (lookupDescr(little))
      return "big-endian dtype '" + descr.str() +
             "' is not supported (save the array as '" + little +
             "', e.g. a.astype('" + little + "'))";
  }
  if (descr == "<V2" || descr == "|V2")
    message += " (bf16 cannot be stored in .npy: NumPy has no bfloat16 and "
               "saves it as raw bytes; save it as float32)";
  return message + "; supported: " + supportedList();
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

/// The element count of `shape`, or -1 on a negative size or overflow.
int64_t elementCount(ArrayRef<int64_t> shape) {
  for (int64_t d : shape)
    if (d < 0)
      return -1;
  for (int64_t d : shape)
    if (d == 0)
      return 0;
  int64_t count = 1;
  for (int64_t d : shape) {
    if (count > std::numeric_limits<int64_t>::max() / d)
      return -1;
    count *= d;
  }
  return count;
}

/// Byte count of `count` elements of `size` bytes, or -1 on overflow.
int64_t byteCount(int64_t count, size_t size) {
  auto itemSize = static_cast<int64_t>(size);
  if (count < 0 || (itemSize && count > std::numeric_limits<int64_t>::max() /
                                            itemSize))
    return -1;
  return count * itemSize;
}

/// Converts elements between little-endian (the file) and the host's byte
/// order, and makes booleans 0 or 1.
void fixElements(char *data, int64_t count, const DTypeInfo &info) {
  if (info.dtype == DType::I1) {
    for (int64_t i = 0; i < count; ++i)
      data[i] = data[i] != 0 ? 1 : 0;
    return;
  }
  if (llvm::sys::IsBigEndianHost && info.size > 1)
    for (int64_t i = 0; i < count; ++i)
      std::reverse(data + i * info.size, data + (i + 1) * info.size);
}

/// The header dict: the literal forms NumPy writes, keys in any order.
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : text(text) {}

  /// False with `error` set when the header is malformed.
  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape) {
    if (!consume('{'))
      return fail("expected '{'");
    bool haveDescr = false, haveFortran = false, haveShape = false;
    while (!consume('}')) {
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key or '}'");
      if (!consume(':'))
        return fail("expected ':' after '" + key + "'");
      bool *seen = nullptr;
      if (key == "descr") {
        seen = &haveDescr;
        if (peek('['))
          return fail("structured dtypes (a list for 'descr') are not "
                      "supported");
        if (!parseString(descr))
          return fail("expected a quoted string for 'descr'");
      } else if (key == "fortran_order") {
        seen = &haveFortran;
        if (!parseBool(fortranOrder))
          return fail("expected True or False for 'fortran_order'");
      } else if (key == "shape") {
        seen = &haveShape;
        shape.clear();
        if (!parseShape(shape))
          return false;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      if (*seen)
        return fail("duplicate key '" + key + "'");
      *seen = true;
      if (consume(','))
        continue;
      if (!peek('}'))
        return fail("expected ',' or '}'");
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the dict");
    for (auto [have, key] : {std::pair<bool, const char *>{haveDescr, "descr"},
                             {haveFortran, "fortran_order"},
                             {haveShape, "shape"}})
      if (!have) {
        error = std::string("missing key '") + key + "'";
        return false;
      }
    return true;
  }

  std::string error;

private:
  static bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }
  static bool isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  }

  bool fail(const std::string &message) {
    error = message + " at offset " + std::to_string(pos) + " of the header";
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && isSpace(text[pos]))
      ++pos;
  }

  bool peek(char c) {
    skipSpace();
    return pos < text.size() && text[pos] == c;
  }

  bool consume(char c) {
    if (!peek(c))
      return false;
    ++pos;
    return true;
  }

  bool parseString(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos];
    size_t end = text.find(quote, pos + 1);
    if (end == StringRef::npos)
      return false;
    StringRef body = text.slice(pos + 1, end);
    if (body.contains('\\') || body.contains('\n'))
      return false;
    out = body.str();
    pos = end + 1;
    return true;
  }

  bool parseKeyword(StringRef word) {
    skipSpace();
    if (!text.substr(pos).starts_with(word))
      return false;
    size_t end = pos + word.size();
    if (end < text.size() && isWordChar(text[end]))
      return false;
    pos = end;
    return true;
  }

  bool parseBool(bool &out) {
    if (parseKeyword("True")) {
      out = true;
      return true;
    }
    if (parseKeyword("False")) {
      out = false;
      return true;
    }
    return false;
  }

  /// A non-negative integer (Python 2's `3L` too).
  bool parseDim(int64_t &out) {
    skipSpace();
    size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      int digit = text[pos] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
        return fail("dimension too large in 'shape'");
      value = value * 10 + digit;
      ++pos;
    }
    if (pos == start) {
      if (pos < text.size() && text[pos] == '-')
        return fail("negative dimension in 'shape'");
      return fail("expected a dimension in 'shape'");
    }
    if (pos < text.size() && text[pos] == 'L')
      ++pos;
    if (pos < text.size() && isWordChar(text[pos]))
      return fail("malformed dimension in 'shape'");
    out = value;
    return true;
  }

  bool parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return fail("expected a tuple for 'shape'");
    while (!consume(')')) {
      int64_t dim;
      if (!parseDim(dim))
        return false;
      shape.push_back(dim);
      if (consume(','))
        continue;
      if (!peek(')'))
        return fail("expected ',' or ')' in 'shape'");
    }
    return true;
  }

  StringRef text;
  size_t pos = 0;
};

} // namespace

int64_t NpyArray::numElements() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

StringRef mlir::seqc::npyDescr(DType dtype) {
  const DTypeInfo *info = infoOf(dtype);
  return info ? StringRef(info->descr) : StringRef();
}

llvm::Expected<NpyArray> mlir::seqc::parseNpy(StringRef bytes,
                                              StringRef name) {
  auto fail = [&](const std::string &message) {
    return makeError(name.str() + ": " + message);
  };
  auto u8 = [&](size_t i) {
    return static_cast<uint64_t>(static_cast<unsigned char>(bytes[i]));
  };

  if (bytes.empty())
    return fail("empty file, not a .npy array");
  if (std::memcmp(bytes.data(), kMagic,
                  std::min(bytes.size(), sizeof(kMagic))) != 0)
    return fail("not a .npy file (bad magic; expected \"\\x93NUMPY\")");
  if (bytes.size() < 8)
    return fail("truncated header (the file has only " +
                std::to_string(bytes.size()) + " bytes)");
  unsigned major = u8(6), minor = u8(7);
  if (major < 1 || major > 3 || minor != 0)
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix)
    return fail("truncated header (the file has only " +
                std::to_string(bytes.size()) + " bytes)");
  uint64_t headerLength =
      major == 1 ? (u8(8) | u8(9) << 8)
                 : (u8(8) | u8(9) << 8 | u8(10) << 16 | u8(11) << 24);
  if (headerLength > bytes.size() - prefix)
    return fail("truncated header (" + std::to_string(headerLength) +
                " header bytes announced, " +
                std::to_string(bytes.size() - prefix) + " in the file)");
  StringRef header = bytes.substr(prefix, headerLength);

  std::string descr;
  bool fortranOrder = false;
  NpyArray array;
  HeaderParser parser(header);
  if (!parser.parse(descr, fortranOrder, array.shape))
    return fail("malformed header: " + parser.error);

  const DTypeInfo *info = lookupDescr(descr);
  if (!info)
    return fail(unsupportedDescr(descr));
  array.dtype = info->dtype;

  int64_t count = elementCount(array.shape);
  int64_t size = byteCount(count, info->size);
  if (count < 0 || size < 0)
    return fail("shape " + shapeString(array.shape) + " is too large");
  // Fortran order is C order when at most one dimension exceeds 1.
  if (fortranOrder && std::count_if(array.shape.begin(), array.shape.end(),
                                    [](int64_t d) { return d > 1; }) > 1)
    return fail("Fortran-order arrays are not supported (save a C-order "
                "array, e.g. np.ascontiguousarray(a))");

  uint64_t offset = prefix + headerLength;
  uint64_t available = bytes.size() - offset;
  if (available < static_cast<uint64_t>(size))
    return fail("truncated data (shape " + shapeString(array.shape) + " of " +
                info->descr + " needs " + std::to_string(size) +
                " bytes, the file has " + std::to_string(available) + ")");
  if (available > static_cast<uint64_t>(size))
    return fail(std::to_string(available - size) +
                " unexpected bytes after the data (shape " +
                shapeString(array.shape) + " of " + info->descr + " needs " +
                std::to_string(size) + " bytes)");

  array.data.assign(bytes.data() + offset, bytes.data() + offset + size);
  fixElements(array.data.data(), count, *info);
  return std::move(array);
}

llvm::Expected<NpyArray> mlir::seqc::readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path.str() + ": " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

namespace {

/// The magic, version, length and padded header of an array; `size` is set
/// to the byte count of its data.
llvm::Expected<std::string> npyHeader(DType dtype, ArrayRef<int64_t> shape,
                                      int64_t &size) {
  const DTypeInfo *info = infoOf(dtype);
  if (!info) {
    if (dtype == DType::BF16)
      return makeError("bf16 cannot be stored in a .npy file (NumPy has no "
                       "bfloat16)");
    return makeError("unknown dtype code " +
                     std::to_string(static_cast<int>(dtype)));
  }
  int64_t count = elementCount(shape);
  size = byteCount(count, info->size);
  if (count < 0 || size < 0)
    return makeError("invalid shape " + shapeString(shape));

  std::string dict =
      std::string("{'descr': '") + info->descr + "', 'fortran_order': False, "
                                                 "'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    dict += ",";
  dict += "), }";

  // Version 1.0 unless the header needs more than 2 length bytes; the data
  // starts at a multiple of 64 bytes.
  unsigned major = 1;
  size_t prefix = 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  uint64_t headerLength = total - prefix;

  std::string out(kMagic, sizeof(kMagic));
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<char>((headerLength >> (8 * i)) & 0xff));
  out += dict;
  out.append(total - out.size() - 1, ' ');
  out.push_back('\n');
  return out;
}

/// Whether the data must be converted before it is written.
bool needsFixing(DType dtype) {
  const DTypeInfo *info = infoOf(dtype);
  return dtype == DType::I1 ||
         (llvm::sys::IsBigEndianHost && info && info->size > 1);
}

} // namespace

llvm::Expected<std::string> mlir::seqc::encodeNpy(DType dtype,
                                                  ArrayRef<int64_t> shape,
                                                  const void *data) {
  int64_t size = 0;
  auto header = npyHeader(dtype, shape, size);
  if (!header)
    return header.takeError();
  if (size > 0 && !data)
    return makeError("no data for a non-empty array");
  std::string out = std::move(*header);
  if (size > 0) {
    size_t offset = out.size();
    out.append(static_cast<const char *>(data), static_cast<size_t>(size));
    if (needsFixing(dtype))
      fixElements(&out[offset], elementCount(shape), *infoOf(dtype));
  }
  return std::move(out);
}

llvm::Error mlir::seqc::writeNpy(StringRef path, DType dtype,
                                 ArrayRef<int64_t> shape, const void *data) {
  int64_t size = 0;
  auto header = npyHeader(dtype, shape, size);
  if (!header)
    return makeError(path.str() + ": " + llvm::toString(header.takeError()));
  if (size > 0 && !data)
    return makeError(path.str() + ": no data for a non-empty array");

  // Booleans (and every element on a big-endian host) go through a copy.
  std::vector<char> fixed;
  const char *payload = static_cast<const char *>(data);
  if (size > 0 && needsFixing(dtype)) {
    fixed.assign(payload, payload + size);
    fixElements(fixed.data(), elementCount(shape), *infoOf(dtype));
    payload = fixed.data();
  }

  std::string name = path.str();
  std::FILE *file = std::fopen(name.c_str(), "wb");
  if (!file)
    return makeError(name + ": cannot open for writing: " +
                     std::strerror(errno));
  bool ok = std::fwrite(header->data(), 1, header->size(), file) ==
            header->size();
  if (ok && size > 0)
    ok = std::fwrite(payload, 1, static_cast<size_t>(size), file) ==
         static_cast<size_t>(size);
  int savedErrno = ok ? 0 : errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok)
    return makeError(name + ": cannot write: " + std::strerror(savedErrno));
  return llvm::Error::success();
}
