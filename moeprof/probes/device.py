"""The device the probes run on: CUDA, ROCm (torch's HIP build, also `torch.cuda`) or CPU,
and what it supports (fp8 GEMM, grouped GEMM, CUDA/HIP graphs), found by trying each once."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..errors import MoeprofError


@dataclass
class DeviceInfo:
    kind: str  # cuda | rocm | cpu
    device: torch.device
    name: str
    memory_total_bytes: int | None
    index: int = 0
    uuid: str | None = None
    l2_cache_bytes: int | None = None
    fp8_dtype: torch.dtype | None = None
    grouped_mm: bool = False
    graphs: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def is_gpu(self) -> bool:
        return self.kind in ("cuda", "rocm")

    def sync(self) -> None:
        if self.is_gpu:
            torch.cuda.synchronize(self.device)

    def empty_cache(self) -> None:
        if self.is_gpu:
            torch.cuda.empty_cache()

    def memory_free_bytes(self) -> int | None:
        if self.is_gpu:
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free)
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            return None

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "memory_total_bytes": self.memory_total_bytes,
            "uuid": self.uuid,
            "l2_cache_bytes": self.l2_cache_bytes,
            "fp8_dtype": str(self.fp8_dtype).replace("torch.", "") if self.fp8_dtype else None,
            "grouped_mm": self.grouped_mm,
            "graphs": self.graphs,
            "notes": list(self.notes),
        }


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def resolve_device(requested: str = "auto", index: int = 0) -> DeviceInfo:
    """The device to probe; a GPU kind that is not present is a MoeprofError."""
    gpu_ok = torch.cuda.is_available()
    hip = getattr(torch.version, "hip", None)
    kind = requested
    if requested == "auto":
        kind = ("rocm" if hip else "cuda") if gpu_ok else "cpu"
    if kind in ("cuda", "rocm"):
        if not gpu_ok:
            raise MoeprofError(f"--device {kind}: torch {torch.__version__} sees no GPU (torch.cuda.is_available() is False)")
        if kind == "rocm" and not hip:
            raise MoeprofError("--device rocm: this torch is a CUDA build; use --device cuda")
        if kind == "cuda" and hip:
            raise MoeprofError("--device cuda: this torch is a ROCm build; use --device rocm")
        dev = torch.device("cuda", index)
        torch.cuda.set_device(dev)
        props = torch.cuda.get_device_properties(dev)
        info = DeviceInfo(
            kind=kind,
            device=dev,
            name=props.name,
            memory_total_bytes=int(props.total_memory),
            index=index,
            uuid=str(getattr(props, "uuid", "")) or None,
            l2_cache_bytes=int(getattr(props, "L2_cache_size", 0)) or None,
        )
    elif kind == "cpu":
        info = DeviceInfo(kind="cpu", device=torch.device("cpu"), name=_cpu_name(), memory_total_bytes=_host_memory())
    else:
        raise MoeprofError(f"unknown device {requested!r}: use cuda, rocm or cpu")
    _detect_features(info)
    return info


def _host_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError):
        return None


def fp8_candidates(info: DeviceInfo) -> list[torch.dtype]:
    """MI300-class (gfx94x) GPUs use the fnuz fp8 variant; everything else OCP e4m3fn."""
    out = []
    if info.kind == "rocm":
        arch = getattr(torch.cuda.get_device_properties(info.device), "gcnArchName", "")
        if "gfx94" in arch and hasattr(torch, "float8_e4m3fnuz"):
            out.append(torch.float8_e4m3fnuz)
    if hasattr(torch, "float8_e4m3fn"):
        out.append(torch.float8_e4m3fn)
    return out


def _detect_features(info: DeviceInfo) -> None:
    d = info.device
    for dt in fp8_candidates(info):
        try:
            a = torch.ones(16, 32, device=d).to(dt)
            b = torch.ones(32, 16, device=d).to(dt).t().contiguous().t()
            one = torch.ones((), device=d)
            out = torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            if float(out[0, 0]) == 32.0:
                info.fp8_dtype = dt
                break
        except Exception as e:  # unsupported arch or build: no fp8 probes
            info.notes.append(f"fp8 GEMM ({dt}) unsupported: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
    try:
        x = torch.ones(32, 16, device=d, dtype=torch.bfloat16)
        w = torch.ones(2, 16, 16, device=d, dtype=torch.bfloat16)
        offs = torch.tensor([16, 32], device=d, dtype=torch.int32)
        out = F.grouped_mm(x, w.transpose(-2, -1), offs=offs)
        info.grouped_mm = float(out[0, 0]) == 16.0
    except Exception as e:
        info.notes.append(f"grouped GEMM unavailable, MoE uses a sorted-token loop: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
    if info.is_gpu:
        try:
            x = torch.ones(8, device=d)
            g = torch.cuda.CUDAGraph()
            s = torch.cuda.Stream(device=d)
            s.wait_stream(torch.cuda.current_stream(d))
            with torch.cuda.stream(s):
                x.add_(1)
            torch.cuda.current_stream(d).wait_stream(s)
            with torch.cuda.graph(g):
                x.add_(1)
            g.replay()
            torch.cuda.synchronize(d)
            info.graphs = True
        except Exception as e:
            info.notes.append(f"CUDA/HIP graphs unavailable: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
