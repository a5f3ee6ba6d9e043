"""Process-group setup for single-process and multi-process (torchrun / DDP) training.

Launch several processes with PyTorch's own launcher, e.g. on one machine with 2 GPUs (or 2 CPU processes):

    torchrun --standalone --nproc_per_node 2 "$(command -v motiongpt)" train tokenizer --config CONFIG.yaml

or across machines with `--nnodes N --node_rank R --rdzv_endpoint HOST:PORT`. torchrun sets RANK,
LOCAL_RANK and WORLD_SIZE; `setup_distributed` reads them and initialises the process group with
`nccl` on CUDA and `gloo` on CPU. Without those variables everything runs in one process.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from motiongpt.training.errors import TrainingError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' -> cuda:<local_rank> when CUDA is available, else cpu; 'cuda' without CUDA is an error."""
    if name not in DEVICE_CHOICES and not str(name).startswith("cuda:"):
        raise TrainingError(f"device must be one of {DEVICE_CHOICES} (or cuda:N), got {name!r}")
    if name == "cpu":
        return torch.device("cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
        if name == "cpu":
            return torch.device("cpu")
    if not torch.cuda.is_available():
        raise TrainingError(f"device {name!r} requested but CUDA is not available on this machine")
    if name == "cuda":
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return torch.device(name)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job. A single process has rank 0 and world size 1."""
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.is_distributed:
            dist.barrier()

    def all_reduce_mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average a dict of scalars over all processes (same keys on every rank)."""
        if not self.is_distributed or not values:
            return dict(values)
        keys = sorted(values)
        tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(tensor)
        tensor /= self.world_size
        return {k: float(v) for k, v in zip(keys, tensor.tolist())}

    def all_gather_object(self, obj: Any) -> list[Any]:
        if not self.is_distributed:
            return [obj]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def wrap_model(self, model: nn.Module, **ddp_kwargs: Any) -> nn.Module:
        """DistributedDataParallel around `model` when distributed, else `model` itself."""
        if not self.is_distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, **ddp_kwargs)

    def _comm_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model


def setup_distributed(device: str = "auto", timeout_minutes: float = 30.0) -> DistributedContext:
    """Read torchrun's environment and initialise the process group if WORLD_SIZE > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world_size <= 1:
        return DistributedContext(0, 0, 1, resolved, None)
    backend = "nccl" if resolved.type == "cuda" else "gloo"
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=timeout_minutes))
    return DistributedContext(rank, local_rank, world_size, resolved, backend)


def teardown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
