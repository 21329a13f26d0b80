//===- SeqOps.td - seq dialect ops -------------------------*- tablegen -*-===//
//
// The v1 op set. Each op's semantics and numbered constraints live in
// dialects/seq/README.md; the verifiers in SeqOps.cpp cite them.
//
//===----------------------------------------------------------------------===//

#ifndef SEQ_OPS_TD
#define SEQ_OPS_TD

include "SeqBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Seq_AttentionOp : Seq_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "masked softmax attention with GQA, windows and an optional LSE";
  let description = [{
    `out = softmax(scale * Q Kᵀ + mask) V` per batch and query head, with
    Q `[B, Hq, Sq, D]`, K `[B, Hkv, Skv, D]`, V `[B, Hkv, Skv, Dv]`. Query head
    `h` reads key/value head `h / (Hq / Hkv)` (GQA; MQA when `Hkv = 1`).

    Masks are predicates on indices, never tensors. Query `i` sits at key
    position `p = i + L - Sq`, where `L` is `kv_lengths[b]` if given, else
    `Skv` (bottom-right alignment, as FlashAttention). Key `j` is visible iff
    `j < L`, `(!causal || j <= p)`, `(left < 0 || j >= p - left)`,
    `(right < 0 || j <= p + right)` with `window = [left, right]`, and the
    segment ids of `i` and `j` are equal when given. Scores are
    `s = scale * q·k` (`scale` defaults to `1/sqrt(D)`), then
    `s = softcap * tanh(s / softcap)` when `softcap` is set.

    The optional second result is `lse = log Σ_visible exp(s)` (f32). A row
    with no visible key yields output 0 and lse `-inf`, never NaN.

    ```mlir
    %o = seq.attention %q, %k, %v {causal}
        : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>
        -> tensor<2x8x128x64xbf16>
    %o2, %lse = seq.attention %q, %k, %v kv_lengths(%len : tensor<2xi32>)
        {window = array<i64: 256, 0>, softcap = 30.0 : f32}
        : tensor<2x8x1x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>
        -> tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$query,
    Seq_FloatTensor:$key,
    Seq_FloatTensor:$value,
    Optional<Seq_IntTensor>:$kv_lengths,
    Optional<Seq_IntTensor>:$q_segment_ids,
    Optional<Seq_IntTensor>:$kv_segment_ids,
    UnitAttr:$causal,
    DefaultValuedAttr<DenseI64ArrayAttr, "{-1, -1}">:$window,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs Seq_FloatTensor:$output, Optional<Seq_F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`q_segment_ids` `(` $q_segment_ids^ `:` type($q_segment_ids) `)`)?
    (`kv_segment_ids` `(` $kv_segment_ids^ `:` type($kv_segment_ids) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type(results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to Q·Kᵀ: the attribute, or 1/sqrt(D).
    double getEffectiveScale();
    /// Query heads per key/value head (1 for MHA, Hq for MQA); 0 if dynamic.
    int64_t getGroupSize();
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Scans
//===----------------------------------------------------------------------===//

def Seq_YieldOp : Seq_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["ScanOp", "RecurrenceOp"]>]> {
  let summary = "terminates a seq.scan combiner or a seq.recurrence body";
  let description = [{
    Returns the combined values of a `seq.scan` combiner, or the new states
    followed by the per-step outputs of a `seq.recurrence` body.

    ```mlir
    seq.yield %sum : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def Seq_ScanOp : Seq_Op<"scan", [Pure, AttrSizedOperandSegments,
    SingleBlock]> {
  let summary = "associative scan of N tensors along one dimension";
  let description = [{
    Scans `inputs` (N tensors of one shape) along `dim` with the associative
    combiner region `(lhs_1..lhs_N, rhs_1..rhs_N) -> (r_1..r_N)`, whose
    arguments and results are the inputs' element types. With `c` the carry
    and `x_t` the N elements at step `t` (steps run from index 0 upwards, or
    from the last index downwards when `reverse` is set):

    - inclusive: `c_0 = x_0` (or `combine(initial, x_0)`), `c_t = combine(c_{t-1}, x_t)`,
      `out_t = c_t`;
    - exclusive (needs `initial`): `out_t = c_{t-1}` with `c_{-1} = initial`.

    Results are the N scanned tensors, then the N final carries (the input
    shape without `dim`). Lowerings may re-associate the combiner: it must be
    associative; it need not be commutative, since `lhs` always holds the
    earlier steps.

    ```mlir
    %sum, %total = seq.scan ins(%x : tensor<4x16xf32>) {dim = 1 : i64}
        -> tensor<4x16xf32>, tensor<4xf32> {
    ^bb0(%lhs: f32, %rhs: f32):
      %s = arith.addf %lhs, %rhs : f32
      seq.yield %s : f32
    }
    ```
  }];
  let arguments = (ins
    Variadic<Seq_ScanTensor>:$inputs,
    Variadic<Seq_ScanTensor>:$initial,
    I64Attr:$dim,
    UnitAttr:$reverse,
    UnitAttr:$exclusive
  );
  let results = (outs Variadic<Seq_ScanTensor>:$results);
  let regions = (region SizedRegion<1>:$combiner);
  let assemblyFormat = [{
    `ins` `(` $inputs `:` type($inputs) `)`
    (`init` `(` $initial^ `:` type($initial) `)`)?
    attr-dict `->` type($results) $combiner
  }];
  let extraClassDeclaration = [{
    /// The scanned tensors (the first N results).
    ::mlir::ResultRange getOutputs() {
      return getResults().take_front(getInputs().size());
    }
    /// The final carries (the last N results).
    ::mlir::ResultRange getCarries() {
      return getResults().drop_front(getInputs().size());
    }
    /// True when the combiner is `(a1, b1, a2, b2) -> (a1*a2, a2*b1 + b2)`
    /// (either operand order of each product and of the sum, or the sum as
    /// `math.fma(a2, b1, b2)`).
    bool isLinearRecurrenceCombiner();
    /// Replaces a linear-recurrence scan by seq.linear_recurrence (and a
    /// product scan of the decays when that result is used); on failure
    /// nothing changes and `why` (if given) says why.
    ::mlir::LogicalResult raiseToLinearRecurrence(
        ::mlir::RewriterBase &rewriter, std::string *why = nullptr);
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
}

def Seq_LinearRecurrenceOp : Seq_Op<"linear_recurrence", [Pure]> {
  let summary = "diagonal linear recurrence h_t = a_t * h_{t-1} + b_t";
  let description = [{
    Along `dim` (from the last index downwards when `reverse` is set):
    `h_t = a_t ⊙ h_{t-1} + b_t`, starting from `h0` when given; without `h0`
    the first step is exactly `h = b` (as a scan with no initial carry). The
    results are every `h` and the last one (the shape of `a` without `dim`;
    `h0`, or zeros without it, when `dim` has length 0).

    This is the canonical form of a `seq.scan` whose combiner is
    `(a1, b1), (a2, b2) -> (a1·a2, a2·b1 + b2)`.

    ```mlir
    %h, %last = seq.linear_recurrence %a, %b init(%h0 : tensor<8x64xf32>)
        {dim = 2 : i64}
        : tensor<8x64x1024xf32>, tensor<8x64x1024xf32>
        -> tensor<8x64x1024xf32>, tensor<8x64xf32>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$a,
    Seq_FloatTensor:$b,
    Optional<Seq_FloatTensor>:$h0,
    I64Attr:$dim,
    UnitAttr:$reverse
  );
  let results = (outs Seq_FloatTensor:$h, Seq_FloatTensor:$last);
  let assemblyFormat = [{
    $a `,` $b (`init` `(` $h0^ `:` type($h0) `)`)? attr-dict
    `:` type($a) `,` type($b) `->` type($h) `,` type($last)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// State-space and linear-attention recurrences
//===----------------------------------------------------------------------===//

def Seq_SelectiveScanOp : Seq_Op<"selective_scan",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Mamba-1 selective state-space scan (S6)";
  let description = [{
    The arguments of `mamba_ssm`'s `selective_scan_fn`: u `[B, D, L]`,
    delta `[B, D, L]`, A `[D, N]`, B and C `[B, G, N, L]` (channel `d` reads
    group `d / (D / G)`), optional D `[D]`, z `[B, D, L]`, delta_bias `[D]`.
    Per batch, channel and state index n:

    ```
    Δ_t   = delta_softplus ? softplus(delta_t + delta_bias) : delta_t + delta_bias
    h_t,n = exp(Δ_t·A_n)·h_{t-1},n + Δ_t·B_t,n·u_t          (h_{-1} = 0)
    y_t   = Σ_n C_t,n·h_t,n + D·u_t
    y_t  *= silu(z_t)                                       (when z is given)
    ```

    The optional second result is the last state `h_{L-1}` `[B, D, N]` (f32).

    ```mlir
    %y = seq.selective_scan %u, %dt, %A, %B, %C D(%d : tensor<64xf32>)
        z(%z : tensor<2x64x128xf32>) delta_bias(%db : tensor<64xf32>)
        {delta_softplus}
        : tensor<2x64x128xf32>, tensor<2x64x128xf32>, tensor<64x16xf32>,
          tensor<2x1x16x128xf32>, tensor<2x1x16x128xf32>
        -> tensor<2x64x128xf32>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$u,
    Seq_FloatTensor:$delta,
    Seq_FloatTensor:$A,
    Seq_FloatTensor:$B,
    Seq_FloatTensor:$C,
    Optional<Seq_FloatTensor>:$D,
    Optional<Seq_FloatTensor>:$z,
    Optional<Seq_FloatTensor>:$delta_bias,
    UnitAttr:$delta_softplus
  );
  let results = (outs Seq_FloatTensor:$y, Optional<Seq_F32Tensor>:$last_state);
  let assemblyFormat = [{
    $u `,` $delta `,` $A `,` $B `,` $C
    (`D` `(` $D^ `:` type($D) `)`)?
    (`z` `(` $z^ `:` type($z) `)`)?
    (`delta_bias` `(` $delta_bias^ `:` type($delta_bias) `)`)?
    attr-dict `:` type($u) `,` type($delta) `,` type($A) `,` type($B) `,`
    type($C) `->` type(results)
  }];
  let hasVerifier = 1;
}

def Seq_GatedLinearAttentionOp : Seq_Op<"gated_linear_attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "matrix-state gated linear attention (GLA, RetNet, Mamba-2 SSD)";
  let description = [{
    Per batch and head, with q, k `[B, H, T, K]`, v `[B, H, T, V]`, a matrix
    state `S` `[K, V]` and the optional log-decay gate g, `[B, H, T, K]`
    (per key dim) or `[B, H, T]` (one scalar for every key dim):

    ```
    S_t = diag(exp(g_t))·S_{t-1} + k_tᵀ·v_t          (S_{-1} = initial_state or 0)
    o_t = scale·q_t·S_t                                (scale defaults to 1/sqrt(K))
    ```

    Without g this is plain (causal) linear attention. The optional second
    result is the final state `S_{T-1}` `[B, H, K, V]` (f32).

    ```mlir
    %o, %s = seq.gated_linear_attention %q, %k, %v gate(%g : tensor<2x4x64x32xf32>)
        : tensor<2x4x64x32xbf16>, tensor<2x4x64x32xbf16>, tensor<2x4x64x16xbf16>
        -> tensor<2x4x64x16xbf16>, tensor<2x4x32x16xf32>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$q,
    Seq_FloatTensor:$k,
    Seq_FloatTensor:$v,
    Optional<Seq_FloatTensor>:$g,
    Optional<Seq_FloatTensor>:$initial_state,
    OptionalAttr<F32Attr>:$scale
  );
  let results = (outs Seq_FloatTensor:$o, Optional<Seq_F32Tensor>:$final_state);
  let assemblyFormat = [{
    $q `,` $k `,` $v
    (`gate` `(` $g^ `:` type($g) `)`)?
    (`init` `(` $initial_state^ `:` type($initial_state) `)`)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type(results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to q: the attribute, or 1/sqrt(K).
    double getEffectiveScale();
  }];
  let hasVerifier = 1;
}

def Seq_RecurrenceOp : Seq_Op<"recurrence", [RecursiveMemoryEffects,
    AttrSizedOperandSegments, SingleBlock]> {
  let summary = "general nonlinear recurrence over time (LSTM, GRU, xLSTM)";
  let description = [{
    Iterates `body` along `dim` of the `inputs` (from the last index downwards
    when `reverse` is set). The body takes the current states, then the
    inputs' slices at step `t` (the input types without `dim`), and yields the
    new states, then the step's outputs `y_t`:

    ```
    (s_t..., y_t...) = body(s_{t-1}..., x_t...)       (s_{-1} = initial states)
    ```

    Results: each `y` stacked along `dim` (the time size inserted at `dim`),
    then the final states. Values defined above the op (weights) may be used
    in the body; lowerings hoist time-invariant work such as the input
    projection `x·W` out of the time loop.

    ```mlir
    %ys, %h = seq.recurrence init(%h0 : tensor<2x32xf32>)
        ins(%x : tensor<2x100x16xf32>) {dim = 1 : i64}
        -> tensor<2x100x32xf32>, tensor<2x32xf32> {
    ^bb0(%h_prev: tensor<2x32xf32>, %x_t: tensor<2x16xf32>):
      // ... h = tanh(x_t·W + h_prev·U) ...
      seq.yield %h_new, %h_new : tensor<2x32xf32>, tensor<2x32xf32>
    }
    ```
  }];
  let arguments = (ins
    Variadic<AnyRankedTensor>:$init,
    Variadic<AnyRankedTensor>:$inputs,
    I64Attr:$dim,
    UnitAttr:$reverse
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `init` `(` $init `:` type($init) `)`
    `ins` `(` $inputs `:` type($inputs) `)`
    attr-dict `->` type($results) $body
  }];
  let extraClassDeclaration = [{
    /// The stacked per-step outputs (all results but the last |init|).
    ::mlir::ResultRange getOutputs() {
      return getResults().drop_back(getInit().size());
    }
    /// The final states (the last |init| results).
    ::mlir::ResultRange getFinalStates() {
      return getResults().take_back(getInit().size());
    }
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layer helpers
//===----------------------------------------------------------------------===//

def Seq_CausalConv1dOp : Seq_Op<"causal_conv1d", [Pure]> {
  let summary = "depthwise causal convolution along time, optional fused SiLU";
  let description = [{
    With x `[B, D, L]`, weight `[D, W]` and optional bias `[D]`, as
    `causal_conv1d_fn`:

    ```
    out[b, d, t] = act(bias[d] + Σ_{i<W} weight[d, i]·x[b, d, t - W + 1 + i])
    ```

    where `x` is zero at negative times and `act` is SiLU when `silu` is set,
    else the identity.

    ```mlir
    %y = seq.causal_conv1d %x, %w bias(%b : tensor<64xf32>) {silu}
        : tensor<2x64x128xf32>, tensor<64x4xf32> -> tensor<2x64x128xf32>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$x,
    Seq_FloatTensor:$weight,
    Optional<Seq_FloatTensor>:$bias,
    UnitAttr:$silu
  );
  let results = (outs Seq_FloatTensor:$output);
  let assemblyFormat = [{
    $x `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    attr-dict `:` type($x) `,` type($weight) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Seq_RMSNormOp : Seq_Op<"rms_norm", [Pure]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `out = x / sqrt(mean(x², last dim) + eps) · weight` with `weight` of the
    size of x's last dimension; computed in f32 whatever the storage type.

    ```mlir
    %y = seq.rms_norm %x, %w {eps = 1.0e-05 : f32}
        : tensor<2x128x512xbf16>, tensor<512xbf16> -> tensor<2x128x512xbf16>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$x,
    Seq_FloatTensor:$weight,
    DefaultValuedAttr<F32Attr, "1.0e-6f">:$eps
  );
  let results = (outs Seq_FloatTensor:$output);
  let assemblyFormat = [{
    $x `,` $weight attr-dict `:` type($x) `,` type($weight) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Seq_RoPEOp : Seq_Op<"rope", [Pure]> {
  let summary = "rotary position embedding at integer positions";
  let description = [{
    Rotates x `[B, H, T, D]` (D even) at `positions` `[T]` or `[B, T]`, with
    `inv_freq_i = theta^(-2i/D)` and angle `θ_i = pos·inv_freq_i` for
    `i < D/2`. By default the pairs are `(x_i, x_{i+D/2})` (Hugging Face
    Llama's rotate-half); with `interleaved` they are `(x_{2i}, x_{2i+1})`
    (GPT-J):

    ```
    out_first  = x_first·cos θ_i - x_second·sin θ_i
    out_second = x_second·cos θ_i + x_first·sin θ_i
    ```

    ```mlir
    %y = seq.rope %x, %pos {theta = 500000.0 : f32}
        : tensor<1x8x128x64xbf16>, tensor<128xi32> -> tensor<1x8x128x64xbf16>
    ```
  }];
  let arguments = (ins
    Seq_FloatTensor:$x,
    Seq_IntTensor:$positions,
    DefaultValuedAttr<F32Attr, "10000.0f">:$theta,
    UnitAttr:$interleaved
  );
  let results = (outs Seq_FloatTensor:$output);
  let assemblyFormat = [{
    $x `,` $positions attr-dict `:` type($x) `,` type($positions)
    `->` type($output)
  }];
  let hasVerifier = 1;
}

#endif // SEQ_OPS_TD
