"""SL 190-2007 grading on hand-computed arrays."""

import numpy as np
import pytest

from swc_raster.grading import check_allowable_loss, grade_modulus


def test_thresholds_inclusive_below_with_t_200():
    a = np.array([0, 199.999, 200, 2499.9, 2500, 4999, 5000, 7999, 8000, 14999, 15000, 1e6])
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert grade_modulus(a, 200).tolist() == expected


def test_per_pixel_t_moves_only_the_first_threshold():
    a = np.array([[500.0, 500.0], [1200.0, 3000.0]])
    t = np.array([[200.0, 1000.0], [1000.0, 1000.0]])
    assert grade_modulus(a, t).tolist() == [[2, 1], [2, 3]]


def test_nan_is_no_data_grade_zero():
    a = np.array([np.nan, np.inf, 100.0])
    assert grade_modulus(a, 200).tolist() == [0, 0, 1]


@pytest.mark.parametrize("t", [0, -5, 2500, 3000])
def test_impossible_t_rejected(t):
    with pytest.raises(ValueError, match="allowable soil loss"):
        check_allowable_loss(t)
