"""The pieces of a causal transformer: mask, multi-head self-attention, feed-forward, layer norm.

:class:`~recsys_lessons.neural.sasrec.SASRec` stacks them. Every
function is pure JAX on a dict of parameters, so ``jax.jit`` and ``jax.grad`` go through.

Which positions a position may read
-----------------------------------
A sequence of ``L`` input items ``x_0 .. x_{L-1}`` (oldest first) is trained to predict, at
every position ``t``, the item that came *after* ``x_t``. So the output at ``t`` may use the
inputs ``x_0 .. x_t`` (itself included: its own input is the most recent item, the one that
says most about what comes next) and never ``x_{t+1} ..`` (one of them is the answer):

    allowed[t, s] = (s <= t) and (x_s is an item, not padding)

:func:`causal_mask` is the first condition, :func:`attention_mask` adds the second.
A padding position (histories are left-padded to ``L``) may read nothing; its output is set
to zero by the model, so it never reaches a real position.

Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017; Kang and McAuley,
"Self-Attentive Sequential Recommendation", ICDM 2018.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "attention_mask",
    "causal_mask",
    "dropout",
    "feed_forward",
    "init_block",
    "layer_norm",
    "multi_head_attention",
    "transformer_block",
]

#: Added to the logit of a forbidden pair: exp() of it underflows to exactly 0.
_FORBIDDEN = -1e30


def causal_mask(length: int) -> np.ndarray:
    """Boolean ``(length, length)`` matrix: ``mask[t, s]`` is True when position ``t`` may read ``s``.

    True on and below the diagonal (``s <= t``: the past and the position itself), False
    above it (the future)::

        causal_mask(3) = [[T, F, F],
                          [T, T, F],
                          [T, T, T]]

    The target of position ``t`` is the *next* input ``x_{t+1}``, so reading ``t`` itself is
    right (it is the most recent item) and reading ``t + 1`` would read the answer. A
    strictly lower-triangular mask would hide the most recent item; an upper one, the past.
    """
    return np.tril(np.ones((length, length), dtype=bool))


def attention_mask(valid):
    """``(batch, 1, L, L)`` mask: the causal mask and "the key position holds an item".

    ``valid`` is ``(batch, L)``, True where the input is an item, False for padding. The
    singleton axis broadcasts over the attention heads.
    """
    length = valid.shape[-1]
    return causal_mask(length)[None, None] & valid[:, None, None, :]


def layer_norm(params, x, epsilon: float = 1e-6):
    """``scale * (x - mean) / sqrt(var + epsilon) + bias`` over the last axis (Ba et al. 2016)."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return params["scale"] * (x - mean) / jnp.sqrt(variance + epsilon) + params["bias"]


def dropout(x, rate: float, key):
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    ``key=None`` (scoring) or ``rate=0`` returns ``x`` unchanged.
    """
    if key is None or rate == 0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def multi_head_attention(params, x, mask, n_heads: int):
    """Scaled dot-product self-attention with ``n_heads`` heads.

    With ``Q = x Wq``, ``K = x Wk``, ``V = x Wv`` split into heads of size ``d_h = d / n_heads``::

        weights[t, s] = softmax over allowed s of (Q_t . K_s / sqrt(d_h))
        head_t        = sum over s of weights[t, s] * V_s
        output        = concat(heads) Wo

    ``x`` is ``(batch, L, d)``, ``mask`` broadcasts to ``(batch, heads, L, L)``. A row with no
    allowed position (a padding query) gets all-zero weights.
    """
    batch, length, d = x.shape
    size = d // n_heads

    def heads(w):
        return (x @ w).reshape(batch, length, n_heads, size).transpose(0, 2, 1, 3)

    q, k, v = heads(params["query"]), heads(params["key"]), heads(params["value"])
    logits = jnp.where(mask, q @ k.transpose(0, 1, 3, 2) / np.sqrt(size), _FORBIDDEN)
    weights = jax.nn.softmax(logits, axis=-1) * mask  # softmax over the keys s
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, length, d)
    return out @ params["output"]


def feed_forward(params, x):
    """Point-wise two-layer network, the same at every position: ``relu(x W1 + b1) W2 + b2``."""
    return jax.nn.relu(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


def transformer_block(params, x, mask, n_heads: int, rate: float = 0.0, key=None):
    """One pre-norm block: attention then feed-forward, each in a residual branch::

    x = x + dropout(attention(layer_norm(x)))
    x = x + dropout(feed_forward(layer_norm(x)))
    """
    keys = (None, None) if key is None else jax.random.split(key)
    attended = multi_head_attention(
        params["attention"], layer_norm(params["norm1"], x), mask, n_heads
    )
    x = x + dropout(attended, rate, keys[0])
    return x + dropout(feed_forward(params["ffn"], layer_norm(params["norm2"], x)), rate, keys[1])


def init_block(key, d: int) -> dict:
    """Parameters of one block: weights ``N(0, 1/d)``, biases 0, layer-norm scales 1."""
    names = ("query", "key", "value", "output", "w1", "w2")
    weights = dict(zip(names, jax.random.normal(key, (len(names), d, d)) / np.sqrt(d), strict=True))
    return {
        "attention": {name: weights[name] for name in names[:4]},
        "ffn": {"w1": weights["w1"], "b1": jnp.zeros(d), "w2": weights["w2"], "b2": jnp.zeros(d)},
        "norm1": {"scale": jnp.ones(d), "bias": jnp.zeros(d)},
        "norm2": {"scale": jnp.ones(d), "bias": jnp.zeros(d)},
    }
