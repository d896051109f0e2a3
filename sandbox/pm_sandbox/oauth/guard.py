from ..http import Context, Unauthenticated


def authenticate_bearer(ctx: Context) -> None:
    raise Unauthenticated()
