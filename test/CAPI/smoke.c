/*===- smoke.c - the seqc C API from C ------------------------------------===*\
|*                                                                            *|
|* Part of seqc. Compiles a module from text, invokes it on a non-contiguous  *|
|* input and checks the result against a reference computed here; then checks *|
|* that bad calls fail with a message instead of crashing.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "seqc-c/Seqc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

/* h_t = a_t * h_{t-1} + b_t along dim 1 of [3, 5], from h0. */
static const char *kSource =
    "func.func @recur(%a: tensor<3x5xf32>, %b: tensor<3x5xf32>,\n"
    "                 %h0: tensor<3xf32>) -> (tensor<3x5xf32>, tensor<3xf32>) {\n"
    "  %h, %last = seq.linear_recurrence %a, %b init(%h0 : tensor<3xf32>)\n"
    "      {dim = 1 : i64} : tensor<3x5xf32>, tensor<3x5xf32>\n"
    "      -> tensor<3x5xf32>, tensor<3xf32>\n"
    "  return %h, %last : tensor<3x5xf32>, tensor<3xf32>\n"
    "}\n";

int main(void) {
  seqc_module module = NULL;
  seqc_status status =
      seqc_compile(kSource, strlen(kSource), "target=cpu", &module);
  CHECK(status == SEQC_OK, "compile failed: %s", seqc_last_error());
  if (status != SEQC_OK)
    return 1;

  CHECK(seqc_num_functions(module) == 1, "expected one function");
  CHECK(strcmp(seqc_function_name(module, 0), "recur") == 0, "name");
  int64_t numInputs = 0, numResults = 0;
  CHECK(seqc_function_arity(module, "recur", &numInputs, &numResults) ==
                SEQC_OK &&
            numInputs == 3 && numResults == 2,
        "arity");
  seqc_dtype dtype;
  int64_t rank;
  const int64_t *shape;
  CHECK(seqc_function_arg(module, "recur", 4, &dtype, &rank, &shape) ==
                SEQC_OK &&
            dtype == SEQC_F32 && rank == 1 && shape[0] == 3,
        "signature of result #1");

  /* `a` is the transpose of a [5, 3] array: strides (1, 3). */
  float aStorage[15], b[15], h0[3] = {0.5f, -1.0f, 2.0f};
  for (int i = 0; i < 15; ++i) {
    aStorage[i] = 0.9f - 0.05f * i;
    b[i] = 0.1f * (i % 7) - 0.3f;
  }
  float h[15], last[3];
  for (int i = 0; i < 15; ++i)
    h[i] = NAN; /* poison: every element must be written */
  last[0] = last[1] = last[2] = NAN;
  int64_t shape2[2] = {3, 5}, rowMajor[2] = {5, 1}, transposed[2] = {1, 3};
  int64_t shape1[1] = {3}, unit[1] = {1};
  seqc_buffer args[5] = {
      {aStorage, SEQC_F32, 2, shape2, transposed, 0},
      {b, SEQC_F32, 2, shape2, rowMajor, 0},
      {h0, SEQC_F32, 1, shape1, unit, 0},
      {h, SEQC_F32, 2, shape2, rowMajor, 0},
      {last, SEQC_F32, 1, shape1, unit, 0},
  };
  status = seqc_invoke(module, "recur", args, 5);
  CHECK(status == SEQC_OK, "invoke failed: %s", seqc_last_error());
  for (int r = 0; r < 3; ++r) {
    double state = h0[r];
    for (int t = 0; t < 5; ++t) {
      state = aStorage[t * 3 + r] * state + b[r * 5 + t];
      CHECK(fabs(h[r * 5 + t] - state) <= 1e-5 * (1 + fabs(state)),
            "h[%d, %d] = %f, expected %f", r, t, h[r * 5 + t], state);
    }
    CHECK(fabs(last[r] - state) <= 1e-5 * (1 + fabs(state)), "last[%d]", r);
  }

  /* A wrong shape is an error naming the argument, not a crash. */
  int64_t badShape[2] = {3, 4};
  args[1].shape = badShape;
  CHECK(seqc_invoke(module, "recur", args, 5) == SEQC_ERROR &&
            strstr(seqc_last_error(), "input #1 has shape [3,4]"),
        "bad shape: %s", seqc_last_error());
  args[1].shape = shape2;
  args[0].dtype = SEQC_F16;
  CHECK(seqc_invoke(module, "recur", args, 5) == SEQC_ERROR &&
            strstr(seqc_last_error(), "input #0 has dtype f16, expected f32"),
        "bad dtype: %s", seqc_last_error());
  CHECK(seqc_invoke(module, "recur", args, 4) == SEQC_ERROR &&
            strstr(seqc_last_error(), "takes 5 buffers"),
        "bad count: %s", seqc_last_error());
  CHECK(seqc_invoke(module, "nope", args, 5) == SEQC_ERROR &&
            strstr(seqc_last_error(), "no function named @nope"),
        "bad name: %s", seqc_last_error());
  args[0].dtype = SEQC_F32;
  /* Device codes: an unknown one is an error naming the argument; device
     memory (checked by the caller or not) for a cpu module is one too. */
  args[2].device = 7;
  CHECK(seqc_invoke(module, "recur", args, 5) == SEQC_ERROR &&
            strstr(seqc_last_error(), "argument #2 has an unknown device code 7"),
        "bad device code: %s", seqc_last_error());
  args[2].device = SEQC_CUDA_CHECKED;
  CHECK(seqc_invoke(module, "recur", args, 5) == SEQC_ERROR &&
            strstr(seqc_last_error(), "is CUDA device memory, but @recur was "
                                      "compiled for the cpu target"),
        "checked device buffer on cpu: %s", seqc_last_error());
  args[2].device = SEQC_HOST;
  CHECK(seqc_invoke(module, "recur", args, 5) == SEQC_OK,
        "invoke after the bad calls failed: %s", seqc_last_error());
  seqc_module_destroy(module);

  /* Bad text and bad options fail with located, clear messages. */
  seqc_module bad = NULL;
  const char *garbage = "func.func @f( {";
  CHECK(seqc_compile(garbage, strlen(garbage), NULL, &bad) == SEQC_ERROR &&
            bad == NULL && strstr(seqc_last_error(), "<input>:1:"),
        "garbage: %s", seqc_last_error());
  CHECK(seqc_compile(kSource, strlen(kSource), "target=tpu", &bad) ==
                SEQC_ERROR &&
            strstr(seqc_last_error(), "unsupported target 'tpu'"),
        "bad target: %s", seqc_last_error());
  CHECK(seqc_load("/nonexistent/model.so", &bad) == SEQC_ERROR,
        "load of a missing file");

  /* An upstream parser crash (found by fuzzing) is an error, and the
     process goes on. */
  const char *crash =
      "func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {\n"
      "  %e = tensor.empty() : tensor<3x2xf32>\n"
      "  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : "
      "tensor<3x2xf32>) permutation = [1, 1.0e-30]\n"
      "  return %t : tensor<3x2xf32>\n}\n";
  CHECK(seqc_compile(crash, strlen(crash), NULL, &bad) == SEQC_ERROR &&
            strstr(seqc_last_error(), "the MLIR parser crashed"),
        "parser crash: %s", seqc_last_error());

  /* Weight files: a missing file, and a missing name. */
  seqc_weights weights = NULL;
  CHECK(seqc_weights_open("/nonexistent/w.safetensors", &weights) ==
                SEQC_ERROR &&
            weights == NULL &&
            strstr(seqc_last_error(), "/nonexistent/w.safetensors: cannot open"),
        "missing weights: %s", seqc_last_error());
  CHECK(seqc_weights_get(NULL, "w", SEQC_F32, 0, NULL, NULL) == SEQC_ERROR,
        "weights_get on NULL");

  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
