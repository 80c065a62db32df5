"""Every model of the course keeps the scikit-learn promise (modelled on ``parametrize_with_checks``).

The classes are discovered, not listed: every public subclass of ``Recommender`` and
``SequentialRecommender`` in the package, plus ``LearnedRanker``. A new model is checked
automatically; one whose constructor needs arguments gets them from ``REQUIRED`` (the test
says so when it is missing).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

import recsys_lessons
from recsys_lessons.hybrid.ranker import LearnedRanker
from recsys_lessons.models.base import Recommender
from recsys_lessons.sequences.models import SequentialRecommender
from recsys_lessons.sequences.next_item import build_sequences

N_USERS, N_ITEMS = 40, 25
SKIP_MODULES = ("recsys_lessons.scale", "recsys_lessons.pilot.spark_models")  # need Spark


def _discover():
    for module in pkgutil.walk_packages(recsys_lessons.__path__, "recsys_lessons."):
        if not module.name.startswith(SKIP_MODULES) and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, stack = set(), [Recommender, SequentialRecommender]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("recsys_lessons.") and not sub.__name__.startswith("_"):
                found.add(sub)
    return sorted(found | {LearnedRanker}, key=lambda cls: cls.__name__)


MODELS = _discover()


def _matrix(seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((N_USERS, N_ITEMS)) < 0.25).astype(np.float32)
    X[np.arange(N_USERS), rng.integers(0, N_ITEMS, N_USERS)] = 1.0  # nobody is empty
    X[:, -1] = 0.0  # one item nobody has seen: a cold item
    return sp.csr_matrix(X)


def _items():
    genres = ["Drama", "Comedy", "Action|Drama", "Horror", "Comedy|Romance"]
    return pd.DataFrame(
        {
            "title": [f"film {i}" for i in range(N_ITEMS)],
            "genres": [genres[i % len(genres)] for i in range(N_ITEMS)],
        }
    )


def _events():
    rng = np.random.default_rng(1)
    n = 400
    users = rng.integers(0, 15, n)
    items = rng.integers(0, N_ITEMS, n)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 10**6, n)), "s")
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": times})


def _sequences():
    return build_sequences(_events(), session_gap="1h")


def _ranker_data():
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame({"user": np.repeat(np.arange(30), 10), "item": np.tile(np.arange(10), 30)})
    frame["signal"] = rng.random(n)
    frame["noise"] = rng.random(n)
    labels = (frame["signal"] + 0.2 * rng.random(n) > 0.9).astype(np.int64).to_numpy()
    return frame, labels, ["signal", "noise"]


def _quick_params(cls) -> dict:
    """Small settings so the whole file runs in seconds, and the implicit library quietly."""
    names = inspect.signature(cls.__init__).parameters
    quick = {"factors": 4, "iterations": 3, "num_threads": 1, "regularization": 1.0}
    if cls.__name__ == "EASE":
        quick = {"regularization": 5.0}
    if cls.__name__ == "FunkSVD":
        quick = {"factors": 3, "iterations": 2}
    if cls.__name__ == "LearnedRanker":
        quick = {"iterations": 5, "min_child_samples": 2}
    return {name: value for name, value in quick.items() if name in names}


#: Constructor arguments a model cannot do without, by class name.
REQUIRED = {
    "AttributeMapping": lambda: {
        "base": recsys_lessons.models.EASE(regularization=5.0),
        "attributes": np.random.default_rng(3).random((N_ITEMS, 4)),
    },
    "PredictedPopularity": lambda: {"attributes": np.random.default_rng(3).random((N_ITEMS, 4))},
    "SegmentPopularity": lambda: {"segments": np.array(["a", "b", "c", "d"] * (N_USERS // 4))},
    "ContentBased": lambda: {"items": _items()},
    "LinearBlend": lambda: {
        "models": {
            "pop": recsys_lessons.models.Popularity(),
            "knn": recsys_lessons.models.ItemKNN(neighbors=5),
        },
        "weights": {"pop": 0.3, "knn": 0.7},
    },
    "MatrixModel": lambda: {"model": recsys_lessons.models.Popularity()},
    "ShortLongBlend": lambda: {
        "long_model": recsys_lessons.models.Popularity(),
        "short_model": recsys_lessons.sequences.models.MarkovChain(),
    },
}


def make(cls):
    """An unfitted instance with quick settings (and the required arguments)."""
    required = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self"
        and p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    arguments = REQUIRED[cls.__name__]() if cls.__name__ in REQUIRED else {}
    missing = [name for name in required if name not in arguments]
    assert not missing, f"add {cls.__name__}'s required {missing} to REQUIRED in this file"
    return cls(**arguments, **_quick_params(cls))


def training_data(cls):
    """The fit arguments of a model of this kind, as a tuple."""
    if issubclass(cls, SequentialRecommender):
        return (_sequences(),)
    if cls is LearnedRanker:
        return _ranker_data()
    return (_matrix(),)


def scores(model, data):
    if isinstance(model, SequentialRecommender):
        return model.score(data[0])
    if isinstance(model, LearnedRanker):
        return model.predict(data[0])
    return model.score()


def snapshot(data):
    """A deep copy of the fit arguments' contents, to prove fit does not change them."""
    copies = []
    for value in data:
        if sp.issparse(value):
            copies.append(value.copy())
        elif isinstance(value, (pd.DataFrame, np.ndarray)):
            copies.append(value.copy())
        elif hasattr(value, "items") and hasattr(value, "indptr"):  # Sequences
            copies.append((value.items.copy(), value.indptr.copy()))
        else:
            copies.append(list(value))
    return copies


def assert_same(before, data):
    for old, new in zip(before, data, strict=True):
        if sp.issparse(new):
            assert (old != new).nnz == 0 and old.dtype == new.dtype
        elif isinstance(new, pd.DataFrame):
            pd.testing.assert_frame_equal(old, new)
        elif isinstance(new, np.ndarray):
            np.testing.assert_array_equal(old, new)
        elif isinstance(old, tuple):
            np.testing.assert_array_equal(old[0], new.items)
            np.testing.assert_array_equal(old[1], new.indptr)
        else:
            assert old == list(new)


ids = [cls.__name__ for cls in MODELS]


def test_discovery_finds_every_family():
    names = set(ids)
    expected = {"ALS", "BPR", "EASE", "FunkSVD", "ItemKNN", "UserKNN", "Popularity", "Random"}
    expected |= {"ContentBased", "MarkovChain", "SessionKNN", "LastNItemKNN", "ShortLongBlend"}
    expected |= {"AttributeMapping", "SegmentPopularity", "LinearBlend", "LearnedRanker"}
    assert expected <= names, expected - names
    assert len(MODELS) >= 18


@pytest.mark.parametrize("cls", MODELS, ids=ids)
def test_constructor_stores_arguments_unchanged_and_learns_nothing(cls):
    model = make(cls)
    params = model.get_params(deep=False)
    assert set(params) == set(model._parameter_names())
    learned = [name for name in vars(model) if name.endswith("_") and not name.startswith("_")]
    assert learned == [], f"{cls.__name__}.__init__ creates {learned}; move it to fit"


@pytest.mark.parametrize("cls", MODELS, ids=ids)
def test_get_params_set_params_round_trip(cls):
    model = make(cls)
    params = model.get_params(deep=True)
    assert model.set_params(**params) is model
    again = model.get_params(deep=True)
    assert set(again) == set(params) and all(again[key] is params[key] for key in params)
    with pytest.raises(ValueError, match="has no parameter 'no_such_parameter'"):
        model.set_params(no_such_parameter=1)
    nested = [key for key in params if "__" in key]
    for key in nested:  # a wrapped model's parameter reaches the wrapped model
        outer, inner = key.split("__", 1)
        model.set_params(**{key: params[key]})
        assert getattr(model, outer).get_params()[inner] is params[key]


@pytest.mark.parametrize("cls", MODELS, ids=ids)
def test_unfitted_use_is_refused_with_a_value_error(cls):
    model = make(cls)
    data = training_data(cls)
    with pytest.raises(ValueError, match="not fitted"):
        scores(model, data)


@pytest.mark.parametrize("cls", MODELS, ids=ids)
def test_fit_returns_self_leaves_input_alone_and_clone_refits_identically(cls):
    data = training_data(cls)
    before = snapshot(data)
    model = make(cls)
    params = model.get_params(deep=False)
    assert model.fit(*data) is model
    assert_same(before, data)
    first = scores(model, data)
    assert np.isfinite(first[np.isfinite(first)]).all() and first.shape[0] > 0
    twin = clone(model)
    assert twin is not model and not hasattr(twin, "X_") and not hasattr(twin, "n_items_")
    assert twin.get_params(deep=False).keys() == params.keys()
    np.testing.assert_array_equal(scores(twin.fit(*data), data), first)  # determinism too
    again = scores(model.fit(*data), data)  # refitting the same object gives the same model
    np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize(
    "cls", [c for c in MODELS if c is not LearnedRanker], ids=lambda cls: cls.__name__
)
def test_recommend_returns_ranked_distinct_items(cls):
    data = training_data(cls)
    model = make(cls).fit(*data)
    k = 5
    if isinstance(model, SequentialRecommender):
        items, item_scores = model.recommend(data[0], k=k)
    else:
        items, item_scores = model.recommend(np.arange(6), k=k)
    assert items.shape == item_scores.shape and items.shape[1] == k
    assert np.issubdtype(items.dtype, np.integer)
    assert all(len(set(row)) == k for row in items.tolist())
    assert (np.diff(item_scores, axis=1) <= 0).all()  # best first
    with pytest.raises(ValueError, match="k must be a positive integer"):
        model.recommend(*((data[0],) if isinstance(model, SequentialRecommender) else ()), k=2.0)


@pytest.mark.parametrize(
    "cls", [c for c in MODELS if callable(getattr(c, "fold_in", None))], ids=lambda c: c.__name__
)
def test_fold_in_of_training_histories_has_the_scores_shape(cls):
    X = _matrix()
    model = make(cls).fit(X)
    folded = model.fold_in(X[:3])
    assert folded.shape == (3, N_ITEMS) and np.isfinite(folded).all()
    with pytest.raises(ValueError, match="item columns"):
        model.fold_in(X[:3, :-1])


def test_sklearn_clone_works_on_als_from_the_issue():
    import recsys_lessons.models as m

    model = m.ALS(factors=8)
    twin = clone(model)
    assert type(twin) is m.ALS and twin.get_params() == model.get_params()
