"""The aiconfigurator importer on a tiny synthetic database written here (needs pyarrow)."""

import json

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from moeprof.kernel_tables.aic_import import import_tables  # noqa: E402
from moeprof.kernel_tables.collection import KernelTables  # noqa: E402


def _write(root, rel, rows):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(path)


def synthetic_db(root):
    gemm = []
    for dt, src, rate in (("bfloat16", "torch.nn.functional.linear", 5e11), ("fp8", "CutlassFP8ScaledMMLinearKernel", 1e12)):
        for m in (1, 16, 256):
            for n in (1024, 4096):
                for k in (1024, 4096):
                    gemm.append({"kernel_source": src, "gemm_dtype": dt, "m": m, "n": n, "k": k,
                                 "latency": 0.004 + 2 * m * n * k / rate * 1e3})
    gemm.append({"kernel_source": "other", "gemm_dtype": "bfloat16", "m": 1, "n": 1024, "k": 1024, "latency": 99.0})
    _write(root, "sys_x/gemm/vllm/0.9.0/gemm_perf.parquet", gemm)
    _write(root, "sys_x/gemm/vllm/0.10.0/gemm_perf.parquet", [dict(r, latency=r["latency"] * 2) for r in gemm])
    moe = [{"kernel_source": "triton", "moe_dtype": "bfloat16", "num_tokens": t, "hidden_size": 512, "inter_size": 256,
            "topk": 2, "num_experts": 8, "moe_tp_size": tp, "moe_ep_size": 1, "distribution": dist, "latency": 0.01 * t / tp}
           for t in (1, 8, 64) for tp in (1, 2) for dist in ("balanced", "power_law_1.2")]
    _write(root, "sys_x/moe/vllm/0.9.0/moe_perf.parquet", moe)
    gen = [{"kernel_source": "fa3", "batch_size": b, "isl": 1, "step": s, "num_heads": h, "num_key_value_heads": kvh,
            "head_dim": 128, "kv_cache_dtype": "bfloat16", "window_size": 0, "latency": 0.003 + 1e-7 * b * (s + 1) * h}
           for b in (1, 8) for s in (15, 255) for h in (8, 16) for kvh in (1, 8)]
    _write(root, "sys_x/attention/vllm/0.9.0/generation_attention_perf.parquet", gen)
    ar = [{"kernel_source": "vLLM_custom_graph", "backend": "vllm_graph", "num_gpus": g, "message_size": s,
           "device": "Synthetic GPU", "latency": 0.004 + s * 2 / 1e8} for g in (2, 8) for s in (1024, 1 << 20)]
    ar += [dict(r, backend="vllm_eager", latency=1.0) for r in ar]
    _write(root, "sys_x/comm/vllm/0.9.0/custom_allreduce_perf.parquet", ar)


def test_import_synthetic_database(tmp_path):
    synthetic_db(tmp_path)
    tables, prov = import_tables("sys_x", "vllm", version="0.9.0", head_dims=(128,), moe_shapes=[(512, 256, 8, 2)],
                                 date="2026-01-02", root=tmp_path)
    assert set(tables) == {"gemm_bf16", "gemm_fp8", "moe_bf16_h512_i256_e8_k2", "attention_generation_hd128_kvbf16",
                           "allreduce_bf16"}
    g = tables["gemm_bf16"]
    assert g.meta["engine_version"] == "0.9.0" and g.meta["kernel_source"] == "torch.nn.functional.linear"
    assert g.lookup(m=16, n=4096, k=1024)[0] == pytest.approx(0.004 + 2 * 16 * 4096 * 1024 / 5e11 * 1e3)
    moe = tables["moe_bf16_h512_i256_e8_k2"]
    assert moe.lookup(tokens=64, moe_tp=2, moe_ep=1)[0] == pytest.approx(0.32)  # balanced rows only
    gen = tables["attention_generation_hd128_kvbf16"]
    assert list(gen.grid[1]) == [16, 256]  # kv_len = isl + step
    ar = tables["allreduce_bf16"]
    assert list(ar.grid[0]) == [2048, 2 << 20]  # bf16 elements -> bytes
    assert ar.lookup(message_bytes=2048, gpus=8)[0] == pytest.approx(0.004 + 1024 * 2 / 1e8)  # graph backend
    assert prov["license"] == "Apache-2.0" and "NVIDIA" in prov["notice"] and prov["date"] == "2026-01-02"
    assert prov["tables"]["gemm_bf16"]["rows"] == 12 and prov["device_name"] == "Synthetic GPU"
    assert {s["engine_version"] for s in prov["source_tables"]} == {"0.9.0"}
    # the tables survive the profile's JSON form
    back = KernelTables.from_json(json.loads(json.dumps({n: t.to_json() for n, t in tables.items()})))
    assert back.find("moe", dtype="bf16", hidden=512, inter=256, experts=8, topk=2) is not None


def test_newest_version_by_default_and_errors(tmp_path):
    synthetic_db(tmp_path)
    tables, prov = import_tables("sys_x", "vllm", root=tmp_path)
    assert tables["gemm_bf16"].meta["engine_version"] == "0.10.0"
    from moeprof.errors import MoeprofError

    with pytest.raises(MoeprofError, match="no system 'nope'"):
        import_tables("nope", "vllm", root=tmp_path)
    with pytest.raises(MoeprofError, match="no GEMM table"):
        import_tables("sys_x", "sglang", root=tmp_path)


def test_moe_weight_formats_only_where_the_engine_runs_that_kernel(tmp_path):
    synthetic_db(tmp_path)
    rows = [{"kernel_source": "k", "moe_dtype": src, "num_tokens": t, "hidden_size": 512, "inter_size": 256, "topk": 2,
             "num_experts": 8, "moe_tp_size": 1, "moe_ep_size": 1, "distribution": "balanced", "latency": 0.02 * t}
            for src in ("bfloat16", "fp8_block", "w4a16_mxfp4") for t in (1, 8, 64)]
    for engine in ("vllm", "sglang"):
        _write(tmp_path, f"sys_x/moe/{engine}/0.9.0/moe_perf.parquet", rows)
        _write(tmp_path, f"sys_x/gemm/{engine}/0.9.0/gemm_perf.parquet",
               [{"kernel_source": "t", "gemm_dtype": "bfloat16", "m": 1, "n": 1024, "k": 1024, "latency": 0.01},
                {"kernel_source": "t", "gemm_dtype": "bfloat16", "m": 16, "n": 4096, "k": 4096, "latency": 0.02}])
    shape = [(512, 256, 8, 2)]
    vllm, pv = import_tables("sys_x", "vllm", version="0.9.0", moe_shapes=shape, root=tmp_path)
    sgl, ps = import_tables("sys_x", "sglang", version="0.9.0", moe_shapes=shape, root=tmp_path)
    moe = lambda t: {n for n in t if n.startswith("moe_")}  # noqa: E731
    # vLLM runs MXFP4 experts through the timed triton kernel, block fp8 through DeepGEMM (not timed)
    assert moe(vllm) == {"moe_bf16_h512_i256_e8_k2", "moe_mxfp4_h512_i256_e8_k2"}
    assert moe(sgl) == {"moe_bf16_h512_i256_e8_k2", "moe_fp8_block_h512_i256_e8_k2"}
    assert set(pv["moe_tables_left_out"]) == {"fp8_block"} and "DeepGEMM" in pv["moe_tables_left_out"]["fp8_block"]
    assert set(ps["moe_tables_left_out"]) == {"mxfp4"}
    assert vllm["moe_mxfp4_h512_i256_e8_k2"].lookup(tokens=64, moe_tp=1, moe_ep=1)[0] == pytest.approx(1.28)
