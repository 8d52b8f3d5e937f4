"""A small client for the hash timestamps API, used by ``notarium stamp`` and ``proof``."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from notarium.core.errors import NotariumError


class ApiError(NotariumError):
    """An error envelope returned by the server."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None) -> None:
        super().__init__(f"{status} {code}: {message}", code=code)
        self.status = status
        self.request_id = request_id


class NotariumClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "notarium-cli"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> NotariumClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create_timestamp(
        self,
        *,
        sha256: str,
        filename: str,
        file_size_bytes: int,
        file_type: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        payload: dict[str, Any] = {
            "sha256_hash": sha256,
            "filename": filename,
            "file_size_bytes": file_size_bytes,
        }
        if file_type:
            payload["file_type"] = file_type
        return self._json(self._http.post("/api/v1/timestamps", json=payload, headers=headers))

    def get_timestamp(self, timestamp_id: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/v1/timestamps/{timestamp_id}"))

    def proof(self, timestamp_id: str) -> bytes:
        """The proof file exactly as served: its bytes are what the verifier checks."""
        response = self._http.get(f"/api/v1/timestamps/{timestamp_id}/proof")
        if not response.is_success:
            self._json(response)
        return response.content

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise ApiError(
                response.status_code,
                str(error.get("code", "HTTP_ERROR")),
                str(error.get("message", "")),
                error.get("request_id"),
            )
        raise ApiError(response.status_code, "HTTP_ERROR", response.text[:200], None)
