"""Where a profile came from: device, driver, software versions, host, date, settings; and the
GPU catalog key a measured device maps to. Torch is imported lazily (the torchrun entry point
and the probe suite have it already)."""

from __future__ import annotations

import datetime as _dt
import platform
import re
import socket

from .. import __version__


def gpu_key_for(device_name: str, kind: str) -> str:
    """Catalog key for a device name ('NVIDIA H100 80GB HBM3' -> 'h100-sxm-80gb'); 'cpu' for a
    CPU; otherwise a slug of the name (a profile for a GPU the catalog does not list)."""
    if kind == "cpu":
        return "cpu"
    n = device_name.lower()
    if "h100" in n and "pcie" not in n and "nvl" not in n and "80" in n:
        return "h100-sxm-80gb"
    if "h200" in n and "nvl" not in n:
        return "h200-sxm-141gb"
    if "mi300x" in n:
        return "mi300x-192gb"
    if "mi325x" in n:
        return "mi325x-256gb"
    return re.sub(r"[^a-z0-9]+", "-", n).strip("-") or "unknown-gpu"


def collect_provenance(device_name: str, probe_settings: dict, driver: str | None = None, extra: dict | None = None) -> dict:
    try:
        import torch

        torch_v, cuda_v, hip_v = torch.__version__, torch.version.cuda, getattr(torch.version, "hip", None)
    except ImportError:  # pragma: no cover - the probes need torch
        torch_v = cuda_v = hip_v = None
    prov = {
        "device_name": device_name,
        "driver": driver,
        "torch": torch_v,
        "cuda": cuda_v,
        "rocm": hip_v,
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "moeprof_version": __version__,
        "probe_settings": probe_settings,
        "sources": ["measured by `moeprof probe` on this device"],
    }
    prov.update(extra or {})
    return prov
