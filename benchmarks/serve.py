"""Serving: a bounded load test of `contrastkit serve` on loopback, ONNX Runtime against
PyTorch, and the exported model's CPU latency per image against PyTorch eager.

Load table: a digits run (SmallCNN, the digits_simclr.yaml model: width 32, 128-d, seeded
and untrained: speed does not depend on the weights) is exported, and the service runs in
a subprocess (uvicorn, one model thread) with an exact index of the 1,797 digits. An
`httpx` async client keeps C requests in flight for D seconds (C = 1, 8, 32): each request
is `POST /search?k=10` with one of 64 digit PNGs. Reported: requests/s, latency p50/p99
(ms), errors (non-200 answers or failed connections; goal 0), and model rows per model
run (how much the micro-batching grouped). Cases: ONNX Runtime and PyTorch with a 2 ms
batching window, and ONNX Runtime without batching (window 0).

Latency table: the exported model (ONNX Runtime, 1 thread) against the PyTorch module
(eager, eval, inference mode, 1 thread) on the same uint8 images, batch 1 and batch 64,
per image: the digits CNN (1x8x8) and a photo-sized SmallCNN (3x32x32, width 32).

    python benchmarks/serve.py --quick     # 5 s per load case (~1.5 min)
    python benchmarks/serve.py             # 60 s per load case (~10 min)
    python benchmarks/serve.py [--seconds S] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).parent / "results" / "serve.json"
ROOT = Path(__file__).parents[1]
CONCURRENCY = (1, 8, 32)
CASES = (("onnx", 2.0), ("torch", 2.0), ("onnx", 0.0))


def make_run(out: Path) -> Path:
    """An untrained, seeded digits run (config + checkpoint), exported to ONNX."""
    import torch

    from contrastkit.builders import build_method
    from contrastkit.config import dump_config, load_config
    from contrastkit.export.run_export import export_run
    from contrastkit.run import resolve
    from contrastkit.rundir import CHECKPOINT, CONFIG
    from contrastkit.train.checkpoint import save_checkpoint

    cfg = load_config(ROOT / "configs" / "digits_simclr.yaml", [])
    torch.manual_seed(0)
    method = build_method(cfg, resolve(cfg).new_encoder)
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(dump_config(cfg))
    save_checkpoint(out / CHECKPOINT, {"model": method.state_dict()})
    export_run(out, log=lambda _m: None)
    return out


def serve_forever(run: Path, backend: str, port: int, window_ms: float) -> None:
    """The server subprocess: one model thread, quiet."""
    import torch
    import uvicorn

    from contrastkit.serve.app import create_app
    from contrastkit.serve.service import build_service

    torch.set_num_threads(1)
    service = build_service(
        run, backend=backend, batch_window_ms=window_ms, threads=1, log=lambda _m: None
    )
    app = create_app(service)

    @app.get("/_stats", include_in_schema=False)
    async def stats() -> dict[str, int]:
        b = next(iter(service.batchers.values()))
        return {"runs": b.runs, "rows": b.rows}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def digit_pngs(n: int = 64) -> list[bytes]:
    from PIL import Image

    from contrastkit.data.digits import load_digits

    split = load_digits(test_fraction=0.2, seed=0)
    out = []
    for image in split.x_test[:n].numpy():
        buffer = io.BytesIO()
        Image.fromarray(image[0]).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


async def load(base: str, pngs: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    """`clients` loops posting searches for `seconds`; latencies of the answered ones."""
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(c: httpx.AsyncClient, i: int) -> None:
        nonlocal errors
        j = i
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                r = await c.post(
                    "/search?k=10",
                    content=pngs[j % len(pngs)],
                    headers={"Content-Type": "image/png"},
                )
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1
            j += clients

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as c:
        before = (await c.get("/_stats")).json()
        began = time.perf_counter()
        await asyncio.gather(*[worker(c, i) for i in range(clients)])
        elapsed = time.perf_counter() - began
        after = (await c.get("/_stats")).json()
    ms = np.asarray(latencies) * 1000
    runs = after["runs"] - before["runs"]
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
        "errors": errors,
        "rows_per_model_run": round((after["rows"] - before["rows"]) / max(runs, 1), 2),
    }


def load_case(run: Path, backend: str, window_ms: float, seconds: float) -> list[dict[str, Any]]:
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen(
        [sys.executable, __file__, "--server", str(run), backend, str(port), str(window_ms)],
        env=env,
    )
    try:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        pngs = digit_pngs()
        rows = []
        for clients in CONCURRENCY:
            row = asyncio.run(load(f"http://127.0.0.1:{port}", pngs, clients, seconds))
            row |= {"backend": backend, "batch_window_ms": window_ms}
            print(json.dumps(row), flush=True)
            rows.append(row)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def per_image_latency(repeats: int) -> list[dict[str, Any]]:
    """ONNX Runtime vs PyTorch eager, ms per image, 1 thread."""
    import torch

    from contrastkit.encoders.small_cnn import SmallCNN
    from contrastkit.encoders.traceable import ImageInput
    from contrastkit.export.onnx import OnnxEncoder, export_onnx

    torch.set_num_threads(1)
    rows = []
    for name, channels, size in (("digits CNN 1x8x8", 1, 8), ("SmallCNN 3x32x32", 3, 32)):
        torch.manual_seed(0)
        model = ImageInput(SmallCNN(in_channels=channels, width=32, feature_dim=128)).eval()
        with tempfile.TemporaryDirectory() as tmp:
            example = torch.randint(0, 256, (4, channels, size, size), dtype=torch.uint8)
            path = export_onnx(model, (example,), Path(tmp) / "m.onnx", input_names=["images"])
            onnx = OnnxEncoder(path, threads=1)
            for batch in (1, 64):
                x = torch.randint(0, 256, (batch, channels, size, size), dtype=torch.uint8)
                xn = x.numpy()

                def run_torch(x: torch.Tensor = x, model: Any = model) -> None:
                    with torch.inference_mode():
                        model(x)

                def run_onnx(xn: np.ndarray = xn, onnx: Any = onnx) -> None:
                    onnx(xn)

                timing = {}
                for label, fn in (("torch_eager", run_torch), ("onnxruntime", run_onnx)):
                    for _ in range(5):
                        fn()
                    times = []
                    for _ in range(repeats):
                        start = time.perf_counter()
                        fn()
                        times.append(time.perf_counter() - start)
                    timing[label] = round(float(np.median(times)) * 1000 / batch, 4)
                row = {
                    "model": name,
                    "batch": batch,
                    **{f"{k}_ms_per_image": v for k, v in timing.items()},
                }
                row["speedup"] = round(timing["torch_eager"] / timing["onnxruntime"], 2)
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per load case")
    parser.add_argument("--seconds", type=float, help="seconds per load case (default 60)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--server", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        run, backend, port, window = args.server
        serve_forever(Path(run), backend, int(port), float(window))
        return
    seconds = args.seconds or (5.0 if args.quick else 60.0)
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "digits")
        load_rows = [r for b, w in CASES for r in load_case(run, b, w, seconds)]
    latency_rows = per_image_latency(repeats=50 if args.quick else 200)
    result = {
        "quick": args.quick,
        "seconds_per_case": seconds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs",
        "python": platform.python_version(),
        "load": load_rows,
        "latency": latency_rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
