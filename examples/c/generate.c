/*===-- generate.c - greedy decoding in C with seqc ------------------------===*\
|*                                                                            *|
|* Part of seqc. Loads a model compiled ahead of time by `seqc` (a library    *|
|* with @prefill and @decode from seqc.models) and its weights from a         *|
|* .safetensors file, then decodes greedily: prefill the prompt, then one     *|
|* @decode call per token, the KV cache or recurrent state updated in place   *|
|* between calls. Batch 1.                                                    *|
|*                                                                            *|
|*   seqc-generate MODEL.so WEIGHTS.safetensors STEPS TOKEN...                *|
|*                                                                            *|
|* The weights file names its tensors in the functions' argument order in     *|
|* its metadata ("seqc.weights": comma-separated names; seqc.models'          *|
|* Model.save_arguments writes it). Prints the generated token ids on one     *|
|* line. Every failure prints seqc's message and exits with status 1.         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "seqc-c/Seqc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != SEQC_OK) {                                                   \
      fprintf(stderr, "seqc-generate: %s\n", seqc_last_error());               \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static void die(const char *message) {
  fprintf(stderr, "seqc-generate: %s\n", message);
  exit(1);
}

/* A host buffer of a function argument's dtype and shape, zero-filled. */
static seqc_buffer allocate(seqc_module m, const char *fn, int64_t index) {
  seqc_buffer b;
  seqc_dtype dtype;
  int64_t rank;
  const int64_t *shape;
  CHECK(seqc_function_arg(m, fn, index, &dtype, &rank, &shape));
  int64_t *strides = calloc(rank ? rank : 1, sizeof(int64_t));
  int64_t count = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = count;
    count *= shape[d];
  }
  b.data = calloc(count ? count : 1, seqc_dtype_size(dtype));
  if (!b.data || !strides)
    die("out of memory");
  b.dtype = dtype;
  b.rank = rank;
  b.shape = shape;
  b.strides = strides;
  b.device = SEQC_HOST;
  return b;
}

static int32_t argmax_last(const seqc_buffer *logits) {
  /* logits [1, T, V]: the last row. */
  int64_t t = logits->shape[1], v = logits->shape[2];
  const float *row = (const float *)logits->data + (t - 1) * v;
  int32_t best = 0;
  for (int64_t i = 1; i < v; ++i)
    if (row[i] > row[best])
      best = (int32_t)i;
  return best;
}

int main(int argc, char **argv) {
  if (argc < 5)
    die("usage: seqc-generate MODEL.so WEIGHTS.safetensors STEPS TOKEN...");
  seqc_module m;
  CHECK(seqc_load(argv[1], &m));
  seqc_weights w;
  CHECK(seqc_weights_open(argv[2], &w));
  int steps = atoi(argv[3]);
  int64_t prompt = argc - 4;

  /* Signatures: prefill(tokens, states..., weights...) and
     decode(tokens, pos, states..., weights...); states are the results
     written in place. */
  int64_t pin, pout, din, dout;
  CHECK(seqc_function_arity(m, "prefill", &pin, &pout));
  CHECK(seqc_function_arity(m, "decode", &din, &dout));
  int64_t states = pout - 1, weights = pin - 1 - states;
  if (states < 0 || weights < 0 || din != pin + 1 || dout != pout)
    die("MODEL.so does not have seqc.models' @prefill/@decode signatures");
  for (int64_t r = 1; r < pout; ++r) {
    int64_t input;
    CHECK(seqc_function_in_place(m, "prefill", r, &input));
    if (input != r)
      die("@prefill's states are not written in place into its inputs");
  }
  seqc_buffer tokens = allocate(m, "prefill", 0);
  if (tokens.shape[0] != 1 || tokens.shape[1] != prompt) {
    fprintf(stderr, "seqc-generate: MODEL.so's @prefill takes [1, %lld] "
                    "tokens, got a prompt of %lld\n",
            (long long)tokens.shape[1], (long long)prompt);
    return 1;
  }
  for (int64_t i = 0; i < prompt; ++i)
    ((int32_t *)tokens.data)[i] = atoi(argv[4 + i]);

  /* The weights, by the names the file lists in argument order, each
     checked against the argument's dtype and shape. */
  const char *list = seqc_weights_metadata(w, "seqc.weights");
  if (!list)
    die("WEIGHTS has no 'seqc.weights' metadata (write it with "
        "seqc.models' Model.save_arguments)");
  char *names = strdup(list);
  seqc_buffer *args = calloc(din + dout, sizeof(seqc_buffer));
  seqc_buffer *state = calloc(states ? states : 1, sizeof(seqc_buffer));
  int64_t count = 0;
  for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
    if (count == weights)
      die("WEIGHTS lists more tensors than the model has weight arguments");
    seqc_dtype dtype;
    int64_t rank;
    const int64_t *shape;
    CHECK(seqc_function_arg(m, "prefill", 1 + states + count, &dtype, &rank,
                            &shape));
    CHECK(seqc_weights_get(w, name, dtype, rank, shape,
                           &args[2 + states + count]));
    ++count;
  }
  if (count != weights) {
    fprintf(stderr, "seqc-generate: WEIGHTS lists %lld tensors, the model "
                    "takes %lld\n", (long long)count, (long long)weights);
    return 1;
  }
  for (int64_t s = 0; s < states; ++s)
    state[s] = allocate(m, "prefill", 1 + s);
  seqc_buffer logits = allocate(m, "prefill", pin);
  seqc_buffer step_logits = allocate(m, "decode", din);
  seqc_buffer token = allocate(m, "decode", 0);
  seqc_buffer pos = allocate(m, "decode", 1);

  /* Prefill: args = tokens, states, weights, logits, states. */
  seqc_buffer *pre = args + 1;
  pre[0] = tokens;
  for (int64_t s = 0; s < states; ++s)
    pre[1 + s] = pre[pin + 1 + s] = state[s];
  pre[pin] = logits;
  CHECK(seqc_invoke(m, "prefill", pre, pin + pout));
  int32_t next = argmax_last(&logits);
  printf("%d", next);

  /* Decode: args = token, pos, states, weights, logits, states. */
  args[0] = token;
  args[1] = pos;
  for (int64_t s = 0; s < states; ++s)
    args[2 + s] = args[din + 1 + s] = state[s];
  args[din] = step_logits;
  for (int i = 1; i < steps; ++i) {
    ((int32_t *)token.data)[0] = next;
    ((int32_t *)pos.data)[0] = (int32_t)(prompt + i - 1);
    CHECK(seqc_invoke(m, "decode", args, din + dout));
    next = argmax_last(&step_logits);
    printf(" %d", next);
  }
  printf("\n");
  seqc_weights_close(w);
  seqc_module_destroy(m);
  return 0;
}
