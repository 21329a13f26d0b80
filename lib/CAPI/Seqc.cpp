//===- Seqc.cpp - seqc C API ----------------------------------------------===//
//
// Part of seqc. A thin layer over CompiledModule: C handles, status codes and
// a per-thread error string. No C++ exception or LLVM error crosses it.
//
//===----------------------------------------------------------------------===//

#include "seqc-c/Seqc.h"

#include "seqc/Compiler/Compiler.h"
#include "Runtime/Safetensors.h"

#include <mutex>
#include <string>

using namespace mlir::seqc;

struct seqc_module_impl {
  std::shared_ptr<CompiledModule> module;
};

static thread_local std::string lastError;

static seqc_status fail(const std::string &message) {
  lastError = message;
  return SEQC_ERROR;
}

static seqc_status fail(llvm::Error error) {
  return fail(llvm::toString(std::move(error)));
}

const char *seqc_last_error(void) { return lastError.c_str(); }

size_t seqc_dtype_size(seqc_dtype dtype) {
  if (dtype < SEQC_F32 || dtype > SEQC_I1)
    return 0;
  return dtypeSize(static_cast<DType>(dtype));
}

seqc_status seqc_compile(const char *source, size_t length,
                         const char *options, seqc_module *out) {
  if (!source || !out)
    return fail("seqc_compile: source and out must not be NULL");
  *out = nullptr;
  auto parsed = CompileOptions::parse(options ? options : "");
  if (!parsed)
    return fail(parsed.takeError());
  auto compiled =
      CompiledModule::compile(llvm::StringRef(source, length), *parsed);
  if (!compiled)
    return fail(compiled.takeError());
  *out = new seqc_module_impl{std::move(*compiled)};
  return SEQC_OK;
}

seqc_status seqc_load(const char *path, seqc_module *out) {
  if (!path || !out)
    return fail("seqc_load: path and out must not be NULL");
  *out = nullptr;
  auto loaded = CompiledModule::load(path);
  if (!loaded)
    return fail(loaded.takeError());
  *out = new seqc_module_impl{std::move(*loaded)};
  return SEQC_OK;
}

void seqc_module_destroy(seqc_module module) { delete module; }

const char *seqc_module_target(seqc_module module) {
  if (!module)
    return "";
  return module->module->target() == "cuda" ? "cuda" : "cpu";
}

int seqc_cuda_available(const char **why) {
  static std::string reason;
  static std::once_flag once;
  static bool available = false;
  std::call_once(once, [] { available = cudaAvailable(&reason); });
  if (why)
    *why = available ? nullptr : reason.c_str();
  return available;
}

const char *seqc_cuda_device_name(void) {
  static std::string name;
  static std::once_flag once;
  std::call_once(once, [] { name = cudaDeviceName(); });
  return name.c_str();
}

void seqc_cuda_set_stream(void *stream) { setCudaStream(stream); }

int64_t seqc_num_functions(seqc_module module) {
  return module ? module->module->functions().size() : 0;
}

const char *seqc_function_name(seqc_module module, int64_t index) {
  if (!module || index < 0 ||
      index >= static_cast<int64_t>(module->module->functions().size()))
    return nullptr;
  return module->module->functions()[index].name.c_str();
}

static const FunctionSignature *signature(seqc_module module, const char *name,
                                          const char *caller) {
  if (!module || !name) {
    fail(std::string(caller) + ": module and name must not be NULL");
    return nullptr;
  }
  const FunctionSignature *sig = module->module->lookup(name);
  if (!sig)
    fail(std::string(caller) + ": no function named @" + name);
  return sig;
}

seqc_status seqc_function_arity(seqc_module module, const char *name,
                                int64_t *num_inputs, int64_t *num_results) {
  const FunctionSignature *sig = signature(module, name, "seqc_function_arity");
  if (!sig)
    return SEQC_ERROR;
  if (num_inputs)
    *num_inputs = sig->inputs.size();
  if (num_results)
    *num_results = sig->results.size();
  return SEQC_OK;
}

seqc_status seqc_function_arg(seqc_module module, const char *name,
                              int64_t index, seqc_dtype *dtype, int64_t *rank,
                              const int64_t **shape) {
  const FunctionSignature *sig = signature(module, name, "seqc_function_arg");
  if (!sig)
    return SEQC_ERROR;
  int64_t numInputs = sig->inputs.size();
  int64_t total = numInputs + sig->results.size();
  if (index < 0 || index >= total)
    return fail("seqc_function_arg: @" + std::string(name) + " has " +
                std::to_string(total) + " arguments, index " +
                std::to_string(index) + " is out of range");
  const TensorSpec &spec =
      index < numInputs ? sig->inputs[index] : sig->results[index - numInputs];
  if (dtype)
    *dtype = static_cast<seqc_dtype>(spec.dtype);
  if (rank)
    *rank = spec.shape.size();
  if (shape)
    *shape = spec.shape.data();
  return SEQC_OK;
}

seqc_status seqc_function_in_place(seqc_module module, const char *name,
                                   int64_t result, int64_t *input) {
  const FunctionSignature *sig =
      signature(module, name, "seqc_function_in_place");
  if (!sig)
    return SEQC_ERROR;
  if (result < 0 || result >= static_cast<int64_t>(sig->results.size()))
    return fail("seqc_function_in_place: @" + std::string(name) + " has " +
                std::to_string(sig->results.size()) + " results, index " +
                std::to_string(result) + " is out of range");
  if (input)
    *input = sig->results[result].inPlace;
  return SEQC_OK;
}

seqc_status seqc_invoke(seqc_module module, const char *name,
                        const seqc_buffer *args, int64_t num_args) {
  if (!signature(module, name, "seqc_invoke"))
    return SEQC_ERROR;
  if (num_args < 0 || (num_args > 0 && !args))
    return fail("seqc_invoke: args must not be NULL");
  std::vector<BufferRef> buffers;
  for (int64_t i = 0; i < num_args; ++i) {
    const seqc_buffer &arg = args[i];
    if (arg.dtype < SEQC_F32 || arg.dtype > SEQC_I1)
      return fail("seqc_invoke: @" + std::string(name) + ": argument #" +
                  std::to_string(i) + " has an unknown dtype code " +
                  std::to_string(arg.dtype));
    if (arg.rank < 0 || (arg.rank > 0 && (!arg.shape || !arg.strides)))
      return fail("seqc_invoke: @" + std::string(name) + ": argument #" +
                  std::to_string(i) + " needs a shape and strides");
    if (arg.device != SEQC_HOST && arg.device != SEQC_CUDA &&
        arg.device != SEQC_CUDA_CHECKED)
      return fail("seqc_invoke: @" + std::string(name) + ": argument #" +
                  std::to_string(i) + " has an unknown device code " +
                  std::to_string(arg.device));
    buffers.push_back({arg.data, static_cast<DType>(arg.dtype),
                       llvm::ArrayRef<int64_t>(arg.shape, arg.rank),
                       llvm::ArrayRef<int64_t>(arg.strides, arg.rank),
                       arg.device != SEQC_HOST,
                       arg.device == SEQC_CUDA_CHECKED});
  }
  if (llvm::Error error = module->module->invoke(name, buffers))
    return fail(std::move(error));
  return SEQC_OK;
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

struct seqc_weights_impl {
  std::unique_ptr<SafetensorsFile> file;
};

seqc_status seqc_weights_open(const char *path, seqc_weights *out) {
  if (!path || !out)
    return fail("seqc_weights_open: path and out must not be NULL");
  *out = nullptr;
  auto file = SafetensorsFile::open(path);
  if (!file)
    return fail(file.takeError());
  *out = new seqc_weights_impl{std::move(*file)};
  return SEQC_OK;
}

void seqc_weights_close(seqc_weights weights) { delete weights; }

int64_t seqc_weights_count(seqc_weights weights) {
  return weights ? weights->file->tensors().size() : 0;
}

const char *seqc_weights_name(seqc_weights weights, int64_t index) {
  if (!weights || index < 0 ||
      index >= static_cast<int64_t>(weights->file->tensors().size()))
    return nullptr;
  return weights->file->tensors()[index].name.c_str();
}

const char *seqc_weights_metadata(seqc_weights weights, const char *key) {
  if (!weights || !key)
    return nullptr;
  const std::string *value = weights->file->metadata(key);
  return value ? value->c_str() : nullptr;
}

seqc_status seqc_weights_get(seqc_weights weights, const char *name,
                             seqc_dtype dtype, int64_t rank,
                             const int64_t *shape, seqc_buffer *out) {
  if (!weights || !name || !out || rank < 0 || (rank > 0 && !shape))
    return fail("seqc_weights_get: weights, name, shape and out must not be "
                "NULL");
  if (dtype < SEQC_F32 || dtype > SEQC_I1)
    return fail("seqc_weights_get: unknown dtype code " +
                std::to_string(dtype));
  TensorSpec spec{static_cast<DType>(dtype),
                  llvm::SmallVector<int64_t>(shape, shape + rank)};
  auto buffer = weights->file->buffer(name, spec);
  if (!buffer)
    return fail(buffer.takeError());
  const SafetensorsFile::Tensor *tensor = weights->file->lookup(name);
  out->data = buffer->data;
  out->dtype = dtype;
  out->rank = rank;
  out->shape = tensor->shape.data();
  out->strides = tensor->strides.data();
  out->device = SEQC_HOST;
  return SEQC_OK;
}
