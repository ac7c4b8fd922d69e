"""Blocked losses vs their dense form: forward+backward time and peak memory.

For NT-Xent (D=128, N pairs = 2N rows), SupCon (N samples x 2 views, 100 classes) and
SigLIP (N x N pairs) at each N, run ``contrastkit.losses`` (row blocks, recompute in
backward) and the dense form (the full logit matrix through ``F.cross_entropy`` /
``F.logsigmoid``) in the same process, alternating, and report median time and peak
memory with their ratios.

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` minus the allocation before
the call. On CPU, the peak resident set size, measured in a child process started with
``MALLOC_MMAP_THRESHOLD_=65536`` (every allocation >= 64 KiB is its own mapping,
returned to the OS on free, so RSS follows live tensors): the high-water mark is reset
with ``/proc/self/clear_refs`` before each call and ``VmHWM - VmRSS(before)`` read after.
Times are taken in the parent with the default allocator.

    python benchmarks/losses.py                  # N = 256, 1024, 4096, 8192 (~5 min)
    python benchmarks/losses.py --sizes 256 1024 --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from contrastkit.losses import nt_xent, sigmoid_pairs, supcon

D = 128
TEMPERATURE = 0.1
RESULTS = Path(__file__).parent / "results" / "losses.json"
Loss = Callable[[], torch.Tensor]


def dense_nt_xent(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=1)
    logits = z @ z.T / TEMPERATURE  # (2N, 2N)
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(a.device)
    return F.cross_entropy(logits, target)


def dense_supcon(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    n, v, _ = z.shape
    rows = F.normalize(z.reshape(n * v, -1), dim=1)
    lab = labels.repeat_interleave(v)
    logits = rows @ rows.T / TEMPERATURE  # (NV, NV)
    eye = torch.eye(n * v, dtype=torch.bool, device=z.device)
    log_prob = logits.masked_fill(eye, float("-inf")).log_softmax(1)
    pos = (lab[:, None] == lab[None, :]) & ~eye
    per_anchor = -log_prob.masked_fill(~pos, 0).sum(1) / pos.sum(1).clamp_min(1)
    return per_anchor[pos.any(1)].mean()


def dense_sigmoid(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    n = a.shape[0]
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T * 10.0 - 10.0  # (N, N)
    labels = 2 * torch.eye(n, device=a.device) - 1
    return -F.logsigmoid(labels * logits).sum() / n


def cases(n: int, device: torch.device) -> dict[str, tuple[Loss, Loss, list[torch.Tensor]]]:
    """loss name -> (blocked fn, dense fn, leaves), one per N."""
    g = torch.Generator().manual_seed(0)

    def leaf(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g).to(device).requires_grad_()

    a, b = leaf(n, D), leaf(n, D)
    z = leaf(n, 2, D)
    labels = torch.randint(0, 100, (n,), generator=g).to(device)
    return {
        "nt_xent": (lambda: nt_xent(a, b, TEMPERATURE), lambda: dense_nt_xent(a, b), [a, b]),
        "supcon": (lambda: supcon(z, labels, TEMPERATURE), lambda: dense_supcon(z, labels), [z]),
        "sigmoid_pairs": (lambda: sigmoid_pairs(a, b), lambda: dense_sigmoid(a, b), [a, b]),
    }


def _status_kib(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"{key}:\s+(\d+) kB", text)
    assert match is not None
    return int(match.group(1))


def run_once(fn: Loss, leaves: list[torch.Tensor], device: torch.device) -> tuple[float, float]:
    """One forward+backward: (seconds, peak extra MiB)."""
    for t in leaves:
        t.grad = None
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _status_kib("VmRSS") * 1024
    start = time.perf_counter()
    fn().backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = _status_kib("VmHWM") * 1024 - before
    return seconds, peak / 2**20


def measure_memory(sizes: list[int], device: torch.device) -> dict[str, float]:
    """Peak extra MiB of one forward+backward, keyed ``"loss/N/kind"``."""
    for blocked, dense, leaves in cases(64, device).values():  # lazy initialisation
        run_once(blocked, leaves, device)
        run_once(dense, leaves, device)
    peaks = {}
    for n in sizes:
        for name, (blocked, dense, leaves) in cases(n, device).items():
            for kind, fn in (("blocked", blocked), ("dense", dense)):
                peaks[f"{name}/{n}/{kind}"] = run_once(fn, leaves, device)[1]
    return peaks


def measure(
    sizes: list[int], repeats: int, device: torch.device, peaks: dict[str, float]
) -> list[dict[str, object]]:
    rows = []
    for n in sizes:
        for name, (blocked, dense, leaves) in cases(n, device).items():
            times: dict[str, list[float]] = {"blocked": [], "dense": []}
            warm_up = 1 if n <= 1024 else 0  # large N: one-time costs are negligible
            for _ in range(repeats + warm_up):
                for kind, fn in (("blocked", blocked), ("dense", dense)):
                    times[kind].append(run_once(fn, leaves, device)[0])
            t_b, t_d = (statistics.median(times[k][warm_up:]) for k in ("blocked", "dense"))
            m_b, m_d = (peaks[f"{name}/{n}/{k}"] for k in ("blocked", "dense"))
            rows.append(
                {
                    "loss": name,
                    "n": n,
                    "rows": 2 * n if name != "sigmoid_pairs" else n,
                    "blocked_s": round(t_b, 4),
                    "dense_s": round(t_d, 4),
                    "time_ratio": round(t_b / t_d, 3),
                    "blocked_peak_mib": round(m_b, 1),
                    "dense_peak_mib": round(m_d, 1),
                    "memory_ratio": round(m_b / m_d, 4),
                }
            )
            print(format_row(rows[-1]), flush=True)
    return rows


def cpu_peaks(sizes: list[int]) -> dict[str, float]:
    """Run :func:`measure_memory` in a child whose allocator returns freed tensors."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    cmd = [sys.executable, __file__, "--memory-only", "--device", "cpu", "--sizes"]
    out = subprocess.run(
        [*cmd, *map(str, sizes)], env=env, check=True, capture_output=True, text=True
    )
    peaks: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return peaks


HEADER = (
    f"{'loss':<14}{'N':>6}{'rows':>7}{'blocked s':>11}{'dense s':>10}{'t ratio':>9}"
    f"{'blocked MiB':>13}{'dense MiB':>11}{'mem ratio':>11}"
)


def format_row(r: dict[str, object]) -> str:
    return (
        f"{r['loss']!s:<14}{r['n']!s:>6}{r['rows']!s:>7}{r['blocked_s']!s:>11}"
        f"{r['dense_s']!s:>10}{r['time_ratio']!s:>9}{r['blocked_peak_mib']!s:>13}"
        f"{r['dense_peak_mib']!s:>11}{r['memory_ratio']!s:>11}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096, 8192])
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per case (median)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (1: stable timings on a shared machine)",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    if args.memory_only:
        print(json.dumps(measure_memory(args.sizes, device)))
        return
    print(f"device={device} threads={torch.get_num_threads()} D={D} tau={TEMPERATURE}")
    on_cpu = device.type == "cpu"
    peaks = cpu_peaks(args.sizes) if on_cpu else measure_memory(args.sizes, device)
    print(HEADER)
    rows = measure(args.sizes, args.repeats, device, peaks)
    peak_method = (
        "torch.cuda.max_memory_allocated minus allocated before the call"
        if device.type == "cuda"
        else "peak RSS of one call in a child process: VmHWM - VmRSS(before), VmHWM reset "
        "via /proc/self/clear_refs before each call, MALLOC_MMAP_THRESHOLD_=65536 so freed "
        "tensors leave the RSS; times measured separately with the default allocator"
    )
    result = {
        "benchmark": "losses: blocked (contrastkit) vs dense, forward+backward",
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "d": D,
        "temperature": TEMPERATURE,
        "repeats": args.repeats,
        "time": "median of repeats (after one warm-up for N <= 1024), blocked and dense "
        "alternating",
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
        "peak_memory": peak_method,
        "ratios": "blocked / dense (time_ratio < 1: faster; memory_ratio < 1: smaller)",
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
