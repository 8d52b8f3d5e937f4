"""Operator API for accounts and keys, guarded by a key with the ``admin`` scope."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from notarium.http.deps import admin_principal, runtime_of
from notarium.http.formats import iso_millis
from notarium.http.openapi_responses import error_responses
from notarium.ledger.accounts.plans import PlanName
from notarium.ledger.accounts.scopes import DEFAULT_SCOPES
from notarium.ledger.accounts.service import AccountView, KeyView, Principal

router = APIRouter(
    prefix="/admin/v1",
    tags=["admin"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 500),
)


class AccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    plan: PlanName = "pro"


class PlanChange(BaseModel):
    plan: PlanName


class KeyCreate(BaseModel):
    mode: Literal["live", "test"] | None = Field(
        default=None, description="live unless the prefix names test"
    )
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    prefix: str | None = Field(
        default=None,
        max_length=24,
        description="A brand replacing `ntk` (e.g. `prv`, or `prv_test_` with its mode); "
        "a rotation keeps the replaced key's prefix unless one is given",
        examples=["proofd", "prv_live_", "ip"],
    )


def _account(view: AccountView) -> dict[str, Any]:
    return {
        "account_id": view.id,
        "name": view.name,
        "plan": view.plan,
        "created_at": iso_millis(view.created_at),
    }


def _key(view: KeyView) -> dict[str, Any]:
    return {
        "key_id": view.id,
        "account_id": view.account_id,
        "mode": view.mode,
        "hint": view.hint,
        "scopes": list(view.scopes),
        "created_at": iso_millis(view.created_at),
        "revoked_at": iso_millis(view.revoked_at),
    }


Admin = Depends(admin_principal)


@router.get("/accounts")
def list_accounts(request: Request, _: Principal = Admin) -> JSONResponse:
    views = runtime_of(request).accounts.list_accounts()
    return JSONResponse({"data": [_account(v) for v in views]})


@router.post("/accounts", status_code=201)
def create_account(request: Request, body: AccountCreate, _: Principal = Admin) -> JSONResponse:
    view, issued = runtime_of(request).accounts.create_account(body.name, body.plan)
    return JSONResponse(
        {**_account(view), "key_id": issued.key.id, "api_key": issued.secret}, status_code=201
    )


@router.get("/accounts/{account}")
def get_account(request: Request, account: str, _: Principal = Admin) -> JSONResponse:
    return JSONResponse(_account(runtime_of(request).accounts.get_account(account)))


@router.patch("/accounts/{account}")
def change_plan(
    request: Request, account: str, body: PlanChange, _: Principal = Admin
) -> JSONResponse:
    return JSONResponse(_account(runtime_of(request).accounts.set_plan(account, body.plan)))


@router.get("/accounts/{account}/keys")
def list_keys(request: Request, account: str, _: Principal = Admin) -> JSONResponse:
    views = runtime_of(request).accounts.list_keys(account)
    return JSONResponse({"data": [_key(v) for v in views]})


@router.post("/accounts/{account}/keys", status_code=201)
def create_key(
    request: Request, account: str, body: KeyCreate, _: Principal = Admin
) -> JSONResponse:
    issued = runtime_of(request).accounts.create_key(
        account, mode=body.mode, scopes=body.scopes, prefix=body.prefix
    )
    return JSONResponse({**_key(issued.key), "api_key": issued.secret}, status_code=201)


@router.post("/accounts/{account}/keys/rotate", status_code=201)
def rotate_key(
    request: Request, account: str, body: KeyCreate, _: Principal = Admin
) -> JSONResponse:
    issued = runtime_of(request).accounts.rotate_key(
        account, mode=body.mode, scopes=body.scopes, prefix=body.prefix
    )
    return JSONResponse({**_key(issued.key), "api_key": issued.secret}, status_code=201)


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, _: Principal = Admin) -> JSONResponse:
    return JSONResponse(_key(runtime_of(request).accounts.revoke_key(key_id)))
