"""OAuth 2.0 server (Passport 12 on league/oauth2-server 8.5.5): token endpoint, authorize, keys."""

from ..http import Router

router = Router()
