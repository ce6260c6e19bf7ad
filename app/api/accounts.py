"""JSON API for the signed-in user: who am I, personal access tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from app.accounts import service as account_service
from app.accounts.schemas import MeOut, TokenCreatedOut, TokenIn, TokenOut
from app.api.errors import STAFF_ERRORS, refuse_nul_characters
from app.deps import ApiStaff, SessionDep
from app.ids import Id

router = APIRouter(
    tags=["accounts"], responses=STAFF_ERRORS, dependencies=[Depends(refuse_nul_characters)]
)


@router.get("/me")
def me(staff: ApiStaff) -> MeOut:
    """The user behind this token or browser session."""
    return MeOut.model_validate(staff.user)


@router.get("/tokens")
def list_tokens(staff: ApiStaff, session: SessionDep) -> list[TokenOut]:
    """Your tokens that still work (revoked ones are left out), newest first."""
    return [TokenOut.model_validate(t) for t in account_service.list_tokens(session, staff.user)]


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, staff: ApiStaff, session: SessionDep) -> TokenCreatedOut:
    """A new personal access token; the response is the only time the token is shown."""
    raw, token = account_service.create_token(session, staff.user, body.name)
    return TokenCreatedOut.model_validate(
        {**TokenOut.model_validate(token).model_dump(), "token": raw}
    )


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(token_id: Id, staff: ApiStaff, session: SessionDep) -> None:
    """Revoke one of your tokens; any other id is 404."""
    account_service.revoke_token(session, staff.user, token_id)
