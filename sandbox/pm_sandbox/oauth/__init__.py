"""OAuth 2.0 server (Passport 12 on league/oauth2-server 8.5.5): token endpoint, authorize, keys.

Other modules may call:

* ``authenticate_bearer(ctx)`` - the ``auth:api`` guard (sets ``ctx.user`` and ``ctx.token``);
* ``issue_personal_access_token(ctx, user_id, name, scopes)`` - ``(jwt, token_dict)``;
* ``serialize_token(row)`` - an ``oauth_access_tokens`` row as Passport's Token model;
* ``public_key_pem(store, settings)`` - the key that verifies access tokens.
"""

from ..http import Router
from .authorize import router as authorize_router
from .client_routes import router as client_router
from .guard import authenticate_bearer
from .keys import public_key_pem
from .login import router as login_router
from .personal import issue_personal_access_token, serialize_token
from .token_endpoint import router as token_router

router = Router()
router.include(token_router)
router.include(authorize_router)
router.include(login_router)
router.include(client_router)

__all__ = [
    "authenticate_bearer",
    "issue_personal_access_token",
    "public_key_pem",
    "router",
    "serialize_token",
]
