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
