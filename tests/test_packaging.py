"""pyproject lists every subpackage explicitly (profiles/ is mapped in); keep the list complete."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(moeprof(?:\.[a-z_]+)*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "moeprof").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"
    assert "moeprof.shipped_profiles" in listed
