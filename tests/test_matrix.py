"""interaction_matrix refuses inputs that would give a silently wrong matrix (matrix.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import interaction_matrix


def frame(**columns) -> pd.DataFrame:
    base = {"user_id": [1, 2, 3], "item_id": [10, 20, 10], "rating": [4.0, 3.0, 5.0]}
    return pd.DataFrame({**base, **columns})


def test_valid_frames_still_build_the_same_matrix():
    matrix = interaction_matrix(frame())
    assert matrix.X.toarray().tolist() == [[4.0, 0.0], [0.0, 3.0], [5.0, 0.0]]
    as_strings = interaction_matrix(frame(user_id=["a", "b", "c"]), value=None)
    assert as_strings.user_ids.tolist() == ["a", "b", "c"]
    assert as_strings.X.toarray().tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]


def test_a_list_instead_of_a_dataframe_is_refused():
    with pytest.raises(ValueError, match="must be a pandas DataFrame.*got a list"):
        interaction_matrix([(1, 10, 4.0), (2, 20, 3.0)])


def test_mixed_int_and_str_ids_are_refused():
    with pytest.raises(ValueError, match="'user_id' column mixes kinds of ids.*astype"):
        interaction_matrix(frame(user_id=[1, "2", 3]))


def test_missing_ids_are_refused():
    with pytest.raises(ValueError, match="'item_id' column has 1 missing id.*dropna"):
        interaction_matrix(frame(item_id=[10, np.nan, 10]))


def test_a_non_numeric_rating_column_is_refused():
    with pytest.raises(ValueError, match="'rating' column must hold numbers.*to_numeric"):
        interaction_matrix(frame(rating=["4", "x", "5"]))


def test_datetimes_are_not_silently_cast_to_cell_values():
    timed = frame(timestamp=pd.to_datetime([1, 2, 3], unit="D"))
    with pytest.raises(ValueError, match="'timestamp' column holds dates"):
        interaction_matrix(timed, value="timestamp")


def test_missing_values_are_refused():
    with pytest.raises(ValueError, match="missing values"):
        interaction_matrix(frame(rating=[4.0, np.nan, 5.0]))
