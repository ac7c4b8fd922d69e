"""The training device: its name, and the bf16 hint on a CPU with AMX."""

from pathlib import Path

import pytest
import torch

from contrastkit.errors import UserError
from contrastkit.train.device import cpu_has_amx, device_line, resolve_device

SAPPHIRE = "processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n"
SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\nbugs\t\t: amx_bf16_was_here\n"


def cpuinfo(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return path


def test_amx_is_read_from_the_flags_line_only(tmp_path: Path) -> None:
    assert cpu_has_amx(cpuinfo(tmp_path, SAPPHIRE))
    assert not cpu_has_amx(cpuinfo(tmp_path, SKYLAKE))
    assert not cpu_has_amx(tmp_path / "absent")


def test_the_device_line_suggests_bf16_only_on_an_amx_cpu_training_in_fp32(
    tmp_path: Path,
) -> None:
    cpu, amx, plain = torch.device("cpu"), cpuinfo(tmp_path, SAPPHIRE), tmp_path / "absent"
    assert device_line(cpu, amp=False, cpuinfo=amx) == (
        "device: cpu (this CPU has AMX: --set train.amp=true trains in bf16, 1.8-2.7x faster "
        "on ResNets; docs/vision.md)"
    )
    assert device_line(cpu, amp=True, cpuinfo=amx) == "device: cpu"
    assert device_line(cpu, amp=False, cpuinfo=plain) == "device: cpu"
    assert device_line(torch.device("cuda"), amp=False, cpuinfo=amx) == "device: cuda"


def test_auto_is_the_cpu_here_and_an_unknown_device_is_refused() -> None:
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(UserError, match="unknown device 'tpu9'"):
        resolve_device("tpu9")
