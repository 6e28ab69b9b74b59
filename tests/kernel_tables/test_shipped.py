"""The shipped kernel-table profiles: provenance, license notice, size, and never a default."""

from pathlib import Path

import pytest

from moeprof.kernel_tables.collection import OPS
from moeprof.profile import default_profile_for, load_profile, load_profile_or_shipped

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "profiles").glob("*.aic-*.json"))


def test_four_profiles_within_the_size_budget():
    assert [f.name for f in FILES] == ["h100-sxm-80gb.aic-sglang.json", "h100-sxm-80gb.aic-vllm.json",
                                       "h200-sxm-141gb.aic-sglang.json", "h200-sxm-141gb.aic-vllm.json"]
    assert sum(f.stat().st_size for f in FILES) <= 8 * 2**20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_provenance_and_notice(path):
    p = load_profile(path)
    prov = p.provenance
    assert prov["package"] == "aiconfigurator-core" and prov["package_version"] and prov["date"]
    assert prov["license"] == "Apache-2.0" and "NVIDIA" in prov["notice"] and prov["notice"] in p.note
    assert prov["engine"] in path.stem and prov["source_tables"]
    tables = p.kernel_tables
    assert {"gemm", "attention_generation", "attention_context", "moe", "allreduce"} == tables.ops()
    for name, t in prov["tables"].items():
        kt = tables.tables[name]
        assert kt.op in OPS and t["rows"] > 0 and t["engine_version"] and t["source_table"].startswith(prov["system"])
        assert t["measured_cells"] == int(kt.measured.sum())
    notice = (ROOT / "profiles" / "NOTICE").read_text()
    assert path.name in notice and "Apache License" in notice
    # the ops the tables lack keep the base profile's curves
    assert {"memory_copy", "gemm_bf16"} <= set(p.curves)


def test_kernel_table_profiles_are_chosen_by_name_not_by_default():
    for gpu in ("h100-sxm-80gb", "h200-sxm-141gb"):
        assert not default_profile_for(gpu).kernel_tables_json
    assert load_profile_or_shipped(str(FILES[0])).kernel_tables is not None


@pytest.mark.slow  # scores every shipped kernel table
def test_validate_cli_prints_the_held_out_scores(cli):
    path = str(ROOT / "profiles" / "h100-sxm-80gb.aic-vllm.json")
    out = cli("validate", "--profile", path, check_rc=0).stdout
    assert "kernel tables (every other grid value held out" in out and "attention_context" in out
    f = cli("validate", "--profile", path, "--fail-above", "0.0001")
    assert f.returncode == 1 and f.stderr.startswith("moeprof: error: kernel tables: held-out median |error|")


def test_profile_import_errors_are_one_line(cli, tmp_path):
    p = cli("profile", "import", "--from", "aiconfigurator", "--system", "nope", "--engine", "vllm", "--out", str(tmp_path / "x.json"))
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "no moeprof GPU known for system 'nope'" in p.stderr
    assert not (tmp_path / "x.json").exists()


def test_profile_import_without_pyarrow_is_one_line(cli, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pyarrow(name, *a, **kw):
        if name == "pyarrow":
            raise ImportError(name)
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    p = cli("profile", "import", "--from", "aiconfigurator", "--system", "h100_sxm", "--engine", "vllm", "--out", str(tmp_path / "x.json"))
    assert p.returncode == 1 and "pip install 'moeprof[aic]'" in p.stderr and "Traceback" not in p.stderr
