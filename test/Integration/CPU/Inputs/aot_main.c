/* Calls an ahead-of-time compiled seqc module through its generated header
 * alone: no seqc or LLVM library is involved. */
#include "model.h"

#include <math.h>
#include <stdio.h>

int main(void) {
  float x[2][3][8], w[8], y[2][3][8];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 8; ++k)
        x[i][j][k] = (float)((i * 24 + j * 8 + k) % 5) - 2.0f;
  for (int k = 0; k < 8; ++k)
    w[k] = 0.5f + 0.1f * k;
  seqc_memref_3d_f32 in = {&x[0][0][0], &x[0][0][0], 0, {2, 3, 8}, {24, 8, 1}};
  seqc_memref_1d_f32 weight = {w, w, 0, {8}, {1}};
  seqc_memref_3d_f32 out = {&y[0][0][0], &y[0][0][0], 0, {2, 3, 8}, {24, 8, 1}};
  _mlir_ciface_norm(&in, &weight, &out);
  double worst = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      double ms = 0;
      for (int k = 0; k < 8; ++k)
        ms += (double)x[i][j][k] * x[i][j][k] / 8;
      for (int k = 0; k < 8; ++k) {
        double ref = x[i][j][k] / sqrt(ms + 1e-6) * w[k];
        double err = fabs(ref - y[i][j][k]);
        worst = err > worst ? err : worst;
      }
    }
  printf("max abs error %.3g: %s\n", worst, worst < 1e-5 ? "ok" : "WRONG");
  return worst < 1e-5 ? 0 : 1;
}
