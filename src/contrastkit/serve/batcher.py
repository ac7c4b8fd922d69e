"""Micro-batching: requests that arrive within a short window share one model run.

A request hands its inputs (one array per model input, Shape: (b, ...)) to `submit`; a
worker task takes every request waiting, up to `max_rows` rows, after the first one
has waited `window_ms` (no wait when no other request is in flight: a lone client pays
no window), runs the model once in a worker thread on the concatenation, and
hands each request its rows back. Token inputs of different lengths are padded on the
right with 0 (their attention mask 0), which leaves a masked mean pooling unchanged.

With `window_ms = 0` every request runs the model by itself (in a worker thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from contrastkit.serve.engine import RunModel


def concat_padded(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Arrays of Shape (b_i, L_i, ...) -> (sum b_i, max L_i, ...); short ones padded with 0
    on axis 1 (only integer token arrays differ there)."""
    if parts[0].ndim < 2 or all(p.shape[1:] == parts[0].shape[1:] for p in parts):
        return np.concatenate(parts)
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, [(0, 0), (0, width - p.shape[1])] + [(0, 0)] * (p.ndim - 2)) for p in parts]
    return np.concatenate(padded)


class MicroBatcher:
    """Runs `run` on batches of concurrent requests.

    Args:
        run: The model.
        window_ms: How long the first request of a batch waits for others (0: no batching).
        max_rows: Rows per model run at most.
    """

    def __init__(self, run: RunModel, *, window_ms: float = 2.0, max_rows: int = 64) -> None:
        if window_ms < 0 or max_rows < 1:
            raise ValueError(f"need window_ms >= 0 and max_rows >= 1, got {window_ms}, {max_rows}")
        self.run = run
        self.window_s = window_ms / 1000.0
        self.max_rows = max_rows
        self.queue: asyncio.Queue[tuple[list[np.ndarray], asyncio.Future[np.ndarray]]] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runs = 0
        self.rows = 0
        self.in_flight = 0

    async def submit(self, inputs: list[np.ndarray]) -> np.ndarray:
        """The model's output for `inputs`. Shape: (b, D)."""
        if self.window_s == 0:
            self.runs += 1
            self.rows += int(inputs[0].shape[0])
            return await asyncio.to_thread(self.run, inputs)
        if self.queue is None or self.loop is not asyncio.get_running_loop():
            self.loop = asyncio.get_running_loop()  # a new server loop (tests start several)
            self.queue = asyncio.Queue()
            self.worker = asyncio.create_task(self._work())
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self.in_flight += 1
        try:
            await self.queue.put((inputs, future))
            return await future
        finally:
            self.in_flight -= 1

    async def _work(self) -> None:
        assert self.queue is not None
        while True:
            batch = [await self.queue.get()]
            if self.in_flight > 1:  # others are on their way: give them the window
                await asyncio.sleep(self.window_s)
            rows = int(batch[0][0][0].shape[0])
            while not self.queue.empty() and rows < self.max_rows:
                item = self.queue.get_nowait()
                batch.append(item)
                rows += int(item[0][0].shape[0])
            n_inputs = len(batch[0][0])
            joined = [concat_padded([b[0][i] for b in batch]) for i in range(n_inputs)]
            try:
                out = await asyncio.to_thread(self.run, joined)
            except Exception as err:  # hand the failure to every waiting request
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            self.runs += 1
            self.rows += rows
            start = 0
            for inputs, future in batch:
                n = int(inputs[0].shape[0])
                if not future.done():
                    future.set_result(out[start : start + n])
                start += n

    async def close(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
            self.queue = None
