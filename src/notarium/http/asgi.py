"""Entry point for uvicorn workers: each process builds its own runtime from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from notarium.app.runtime import build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app


def app_factory() -> FastAPI:
    return create_app(build_runtime(Settings()), owns_runtime=True)
