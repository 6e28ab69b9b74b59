import math

import pytest

from moeprof.catalog.calibration.error_band import NOT_QUANTIFIED, from_json, from_residuals


def test_quantiles_and_edges():
    res = {"tpot_ms": [-0.2, -0.1, 0.0, 0.1, 0.3], "throughput": [-0.3, -0.1, 0.05, 0.1, 0.2]}
    band = from_residuals(res, "test")
    tp = band.band("tpot_ms")
    assert tp.lo == pytest.approx(-0.16) and tp.hi == pytest.approx(0.22)
    # latency: pessimistic is the high edge; throughput: the low edge
    assert band.pessimistic("tpot_ms", 10.0) == pytest.approx(12.2)
    assert band.pessimistic("throughput", 10.0) == pytest.approx(10.0 * (1 - 0.22))
    assert band.pessimistic("ttft_ms", 100.0) == 100.0  # no residuals for TTFT: no band


def test_a_biased_band_does_not_contain_its_prediction():
    """Residuals as they are: every run slower than predicted puts the whole band above the point."""
    band = from_residuals({"tpot_ms": [0.1, 0.2, 0.3]}, "all slow")
    lo, hi = band.bounds("tpot_ms", 10.0)
    assert lo == pytest.approx(11.2) and hi == pytest.approx(12.8)
    assert from_json(band.to_json()) == band


def test_round_trip_and_bad_input():
    band = from_residuals({"ttft_ms": [-0.1, 0.2, 0.4]}, "s")
    again = from_json(band.to_json())
    assert again == band
    assert from_json(None) is NOT_QUANTIFIED and not NOT_QUANTIFIED.quantified
    with pytest.raises(ValueError):
        from_json({"metrics": {"tpot_ms": {"lo": 0.3, "hi": 0.2}}})  # lo above hi
    with pytest.raises(ValueError):
        from_json({"metrics": {"bogus": {"lo": -0.1, "hi": 0.2}}})
    with pytest.raises(ValueError):
        from_residuals({"tpot_ms": [0.0]}, "s", quantiles=(0.9, 0.1))


def test_infinite_passes_through():
    band = from_residuals({"ttft_ms": [-0.1, 0.1]}, "s")
    assert band.bounds("ttft_ms", math.inf) == (math.inf, math.inf)
