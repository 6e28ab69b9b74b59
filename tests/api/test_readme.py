"""The README's Python API examples run as written (doctest)."""

import doctest
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.slow  # runs the README's examples (full plans)
def test_readme_python_examples_run():
    r = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert r.attempted >= 8 and r.failed == 0, r
