"""PyTorch baselines shared by the CPU and GPU benchmarks."""


def selective_scan(torch, u, delta, A, B, C, step=None):
    """mamba_ssm's selective_scan_ref (no D, z, bias or softplus): u, delta
    [B, D, L], A [D, N], B and C [B, N, L] (one group). ``step(x, dA_t,
    dBu_t) -> x`` is the state update (the plain expression by default; the
    GPU benchmark passes a torch.compile'd one)."""
    dA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    dBu = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)
    x = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for i in range(u.shape[2]):
        x = (dA[:, :, i] * x + dBu[:, :, i]) if step is None else \
            step(x, dA[:, :, i], dBu[:, :, i])
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, i]))
    return torch.stack(ys, dim=2)


def selective_scan_parallel(torch, u, delta, A, B, C, scan):
    """The same function as selective_scan, parallel over time: the states'
    recurrence x_t = dA_t x_{t-1} + dBu_t over [B, D, L, N] tensors by
    ``scan(a, b, dim) -> x`` (the GPU benchmark passes torch's
    associative_scan; any inclusive scan of that recurrence works), then
    y_t = C_t . x_t."""
    dA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    dBu = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)
    x = scan(dA, dBu, 2)
    return torch.einsum("bdln,bnl->bdl", x, C)


def gla_chunked(xp, q, k, v, g, chunk=64, scale=None):
    """Gated linear attention in the chunked form (as flash-linear-attention
    computes it): per chunk of `chunk` steps, the intra-chunk part as a
    masked (q·e^G)(k·e^-G)^T product times v, the inter-chunk part as
    (q·e^G)·S, and the state carried as S = e^G_last·S + (k·e^(G_last-G))^T v,
    G the within-chunk cumulative log decay. q, k, g [B, H, T, K] (g the log
    decay per key dim), v [B, H, T, V]; T a multiple of `chunk`. `xp` is
    torch or numpy (only einsum, exp, cumsum, tril, stack and indexing are
    used, with the same spelling in both)."""
    Bt, H, T, K = q.shape
    V = v.shape[3]
    n = T // chunk
    if scale is None:
        scale = K ** -0.5
    q, k, v, g = (x.reshape(Bt, H, n, chunk, x.shape[3]) for x in (q, k, v, g))
    G = xp.cumsum(g, 3)                       # inclusive, per chunk
    last = G[:, :, :, -1:, :]
    qg = q * xp.exp(G)
    kg = k * xp.exp(-G)
    kend = k * xp.exp(last - G)
    # Intra-chunk: key j <= query i.
    A = xp.tril(xp.einsum("bhnik,bhnjk->bhnij", qg, kg))
    o = xp.einsum("bhnij,bhnjv->bhniv", A, v)
    # Each chunk's contribution to the state, and its total decay.
    U = xp.einsum("bhnjk,bhnjv->bhnkv", kend, v)
    decay = xp.exp(last[:, :, :, 0, :])       # [B, H, n, K]
    S = U[:, :, 0] * 0.0
    inter = []
    for c in range(n):
        inter.append(xp.einsum("bhik,bhkv->bhiv", qg[:, :, c], S))
        S = decay[:, :, c, :, None] * S + U[:, :, c]
    o = o + xp.stack(inter, 2)
    return (scale * o).reshape(Bt, H, T, V)
