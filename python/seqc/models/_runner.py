"""Prefill, decode and greedy generation of a seqc.models architecture."""

import numpy as np


class Runner:
    """A model compiled for one batch size and state size, with its weights
    and decoding state on the target (torch CUDA tensors on the GPU, NumPy
    arrays on the CPU).

    ``@decode`` is compiled once; ``@prefill`` once per prompt length. The
    state buffers are updated in place by both (``seq.in_place``)."""

    def __init__(self, model, weights, batch=1, max_len=256, target="auto",
                 options=None):
        from .. import _core
        self.model, self.batch, self.max_len = model, batch, max_len
        self._options = options
        arguments = model.arguments(weights)
        self._decode = _core.compile(model.mlir("decode", batch, 1, max_len),
                                     target=target, options=options).decode
        self.target = self._decode._module.target
        self._state_specs = model.states(batch, max_len)
        if self.target == "cuda":
            import torch
            self._torch = torch
            self.weights = [torch.from_numpy(a).cuda() for a in arguments]
        else:
            self._torch = None
            self.weights = arguments
        self._prefill = {}
        self.reset()

    # -- state ----------------------------------------------------------------
    def reset(self):
        """Zeroes the decoding state (a new sequence)."""
        if self._torch is not None:
            self.states = [self._torch.zeros(s, device="cuda")
                           for _, s in self._state_specs]
        else:
            self.states = [np.zeros(s, np.float32) for _, s in self._state_specs]
        self.pos = 0

    def _tokens(self, tokens, length=None):
        if self._torch is not None and isinstance(tokens, self._torch.Tensor):
            t = tokens.to(self._torch.int32)
            lo, hi = int(t.min()), int(t.max())
        else:
            t = np.ascontiguousarray(np.asarray(tokens), dtype=np.int32)
            lo, hi = int(t.min()), int(t.max())
        if t.ndim == 1:
            t = t.reshape(self.batch, -1)
        if t.ndim != 2 or t.shape[0] != self.batch or (length and t.shape[1] != length):
            raise ValueError("%s: expected tokens of shape [%d, %s], got %s"
                             % (self.model.name, self.batch, length or "T",
                                list(t.shape)))
        if lo < 0 or hi >= self.model.vocab:
            raise ValueError("%s: token ids must lie in [0, %d), got [%d, %d]"
                             % (self.model.name, self.model.vocab, lo, hi))
        return t

    def _room(self, steps):
        bounded = getattr(self.model, "bounded", False)
        if bounded and self.pos + steps > self.max_len:
            raise ValueError("%s: %d tokens at position %d overflow the KV cache "
                             "of %d positions (max_len)"
                             % (self.model.name, steps, self.pos, self.max_len))

    # -- steps ------------------------------------------------------------------
    def prefill_function(self, length):
        """The compiled ``@prefill`` for prompts of `length` tokens."""
        fn = self._prefill.get(length)
        if fn is None:
            from .. import _core
            text = self.model.mlir("prefill", self.batch, length, self.max_len)
            fn = _core.compile(text, target=self.target, options=self._options).prefill
            self._prefill[length] = fn
        return fn

    def prefill(self, tokens):
        """Runs a prompt [B, T] from position 0 (the state is reset) and
        returns its logits [B, T, V]."""
        tokens = self._tokens(tokens)
        self.reset()
        self._room(tokens.shape[1])
        out = self.prefill_function(tokens.shape[1])(tokens, *self.states, *self.weights)
        self.pos = tokens.shape[1]
        return out[0]

    def decode(self, tokens):
        """Runs one token per sequence ([B] or [B, 1]) at the current
        position and returns its logits [B, 1, V]."""
        tokens = self._tokens(tokens, 1)
        self._room(1)
        pos = np.array([self.pos], np.int32)
        out = self._decode(tokens, pos, *self.states, *self.weights)
        self.pos += 1
        return out[0]

    def generate(self, prompt, steps):
        """Greedy decoding: `steps` tokens [B, steps] after `prompt`."""
        logits = self.prefill(prompt)
        picked = []
        for step in range(steps):
            last = logits[:, -1]
            if self._torch is not None and isinstance(last, self._torch.Tensor):
                token = last.argmax(-1).to(self._torch.int32).reshape(self.batch, 1)
            else:
                token = np.asarray(last).argmax(-1).astype(np.int32).reshape(self.batch, 1)
            picked.append(token)
            if step + 1 < steps:
                logits = self.decode(token)
        if self._torch is not None and picked and isinstance(picked[0], self._torch.Tensor):
            return self._torch.cat(picked, 1).cpu().numpy()
        return np.concatenate(picked, 1) if picked else np.zeros((self.batch, 0), np.int32)
