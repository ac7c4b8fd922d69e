"""Services over untrained runs (seeded): digits images (ONNX and PyTorch backends), a
table and a tiny-BERT text run, each built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.export.runs import IMAGE, TABLE, make_run, text_run

from contrastkit.export.run_export import export_run
from contrastkit.serve.service import Service, build_service


def _quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = make_run(tmp_path_factory.mktemp("serve") / "digits", "digits_simclr.yaml", IMAGE)
    export_run(run, log=_quiet)
    return run


@pytest.fixture(scope="session")
def digits_service(digits_run: Path) -> Service:
    return build_service(digits_run, backend="onnx", log=_quiet)


@pytest.fixture(scope="session")
def table_service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    run = make_run(tmp_path_factory.mktemp("serve") / "wine", "tabular_scarf.yaml", TABLE)
    return build_service(run, backend="torch", log=_quiet)


@pytest.fixture(scope="session")
def text_service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    pytest.importorskip("transformers")
    from tests.text.conftest import make_tiny_model

    base = tmp_path_factory.mktemp("serve")
    run = text_run(base / "text", str(make_tiny_model(base / "bert")))
    export_run(run, log=_quiet)
    return build_service(run, backend="onnx", log=_quiet)
