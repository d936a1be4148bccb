"""gamtoy.validate, the one validator: Python and NumPy real scalars accepted; bools, strings,
NaN, inf and out-of-range values refused with the argument's name and value."""
import numpy as np
import pytest

from gamtoy import validate

# ---- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0.1, 1, np.float32(0.1), np.float64(0.1), np.int64(2),
                                   np.array(0.25), np.array(3, dtype=np.int8)])
def test_real_accepts_python_and_numpy_real_scalars_and_0d_arrays(value):
    v = validate.real("x", value, low=0.0)
    assert type(v) is float and v == float(np.asarray(value))


@pytest.mark.parametrize("value,err,match", [
    (True, TypeError, r"x must be a real number.*got True \(bool\)"),
    (np.bool_(False), TypeError, "x must be a real number"),
    ("0.1", TypeError, r"got '0.1' \(str\)"),
    (None, TypeError, "got None"),
    (np.array([0.1, 0.2]), TypeError, "x must be a real number"),
    (1 + 2j, TypeError, "complex"),
    (float("nan"), ValueError, "x must be non-negative and finite, got nan"),
    (float("inf"), ValueError, "x must be non-negative and finite, got inf"),
    (np.float32(-1), ValueError, r"x must be non-negative \(must satisfy 0.0 <= x\), got -1.0"),
])
def test_real_refuses_bools_strings_nan_inf_and_out_of_range(value, err, match):
    with pytest.raises(err, match=match):
        validate.real("x", value, low=0.0)


def test_positive_int_and_choice():
    assert validate.positive_int("n", np.int32(3)) == 3
    for bad, err in ((2.5, TypeError), (True, TypeError), (0, ValueError), ("3", TypeError)):
        with pytest.raises(err, match="n must be an integer >= 1"):
            validate.positive_int("n", bad)
    with pytest.raises(ValueError, match="unknown mode 'x'; valid: a, b"):
        validate.choice("mode", "x", ("a", "b"))
