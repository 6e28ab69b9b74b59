"""Hardware catalog: GPUs and Azure VMs (vms), their dated list prices (price, prices) and the
serverless per-token prices a self-hosted deployment is weighed against (serverless)."""

from .price import Price
from .vms import GpuSpec, VmSpec, get_gpu, get_vm, load_gpus, load_vms

__all__ = ["GpuSpec", "Price", "VmSpec", "get_gpu", "get_vm", "load_gpus", "load_vms"]
