"""Deep learning for recommendations (lesson 08, ``notebooks/08_deep_learning.ipynb``): JAX models trained by gradient descent.

| module | job |
| --- | --- |
| `training` | `fit_adam`, the one training loop (Adam, jit-compiled, seeded, progress bar, time budget); `epoch_batches` |
| `mf` | `GradientMF`: matrix factorization by autodiff, dot product or NCF's MLP similarity (Rendle et al. 2020) |
| `content` | `item_content`: items' title and description words, genres, tags, release-year and release-age bands as one sparse matrix |
| `attention` | causal self-attention pieces: `causal_mask` (no position sees the future), transformer blocks |
| `sasrec` | `SASRec`: a transformer for "up next" (Kang and McAuley, ICDM 2018), lesson 07's sequential protocol |
| `two_tower` | `TwoTower`: history-mean user tower, id + content item tower, in-batch softmax with the logQ correction; cold items by content |
"""

from recsys_lessons.neural.attention import causal_mask
from recsys_lessons.neural.content import item_content
from recsys_lessons.neural.mf import SIMILARITIES, GradientMF
from recsys_lessons.neural.sasrec import SASRec
from recsys_lessons.neural.training import epoch_batches, fit_adam, positive_pairs
from recsys_lessons.neural.two_tower import TwoTower, in_batch_softmax_loss

__all__ = [
    "SIMILARITIES",
    "GradientMF",
    "SASRec",
    "TwoTower",
    "causal_mask",
    "epoch_batches",
    "fit_adam",
    "in_batch_softmax_loss",
    "item_content",
    "positive_pairs",
]
