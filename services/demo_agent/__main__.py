"""`python -m services.demo_agent`: the demo agent alone, served by uvicorn.

It listens on 127.0.0.1:9999 unless told otherwise (on loopback it may also send push
notifications to loopback webhooks; on any other address, to public ones only):

    python -m services.demo_agent --port 9999 [--grpc-port P] [--bearer-token T]
        [--api-key K] [--oauth [--token-lifetime S]] [--database-url sqlite:///tasks.db]
        [--signed-card | --bad-signature] [--tenants acme,globex] [--require-extension]

With `--grpc-port` it also serves the same agent (same tasks, same credentials, sent as
metadata) over gRPC on that port, and its card declares the gRPC interface.

With `--tenants` it serves only those tenants (JSON-RPC `params.tenant`, HTTP+JSON
`/rest/{tenant}/...`), each tenant's tasks apart; with `--require-extension` its card marks
the audit extension required and messages without it are refused.

With `--oauth` it is also its own OAuth 2 / OpenID Connect authorization server under
`/oauth` (client `demo-client`, secret `demo-secret`) and requires its access tokens.
"""

from __future__ import annotations

import argparse

import uvicorn

from services.demo_agent.app import build_app
from services.demo_agent.auth import API_KEY_HEADER, DemoAuth
from services.demo_agent.oauth import A2A_SCOPE, DemoOAuth, OAuthEndpoints

__all__ = ["main"]


def main() -> None:
    """Parse the command line and serve the demo agent until interrupted."""
    parser = argparse.ArgumentParser(description="Run the A2A demo agent on its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument(
        "--grpc-port", type=int, metavar="P", help="also serve the agent over gRPC on port P"
    )
    parser.add_argument("--bearer-token", help="require this bearer token")
    parser.add_argument("--api-key", help=f"require this API key (in {API_KEY_HEADER})")
    parser.add_argument(
        "--oauth",
        action="store_true",
        help="serve an OAuth 2 / OpenID Connect authorization server at /oauth and "
        f"require its access tokens (scope {A2A_SCOPE})",
    )
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=DemoOAuth.access_token_lifetime,
        metavar="S",
        help="with --oauth: access tokens last S seconds (default %(default)s)",
    )
    parser.add_argument(
        "--database-url", help="keep tasks in this database (sqlite:///tasks.db) across restarts"
    )
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument(
        "--signed-card",
        action="store_const",
        const="signed",
        dest="card_signing",
        help="sign the card (ES256; the key at /.well-known/jwks.json)",
    )
    signing.add_argument(
        "--bad-signature",
        action="store_const",
        const="bad",
        dest="card_signing",
        help="serve a card changed after it was signed (its signature does not verify)",
    )
    parser.add_argument(
        "--tenants",
        default="",
        metavar="A,B",
        help="serve only these tenants (comma-separated), each one's tasks apart",
    )
    parser.add_argument(
        "--require-extension",
        action="store_true",
        help="mark the audit extension required and refuse messages that do not activate it",
    )
    args = parser.parse_args()
    tenants = tuple(t.strip() for t in args.tenants.split(",") if t.strip())
    if args.oauth and (args.bearer_token or args.api_key):
        parser.error("--oauth replaces --bearer-token and --api-key; give one or the other")
    if args.grpc_port is not None and not 0 < args.grpc_port < 65536:
        parser.error("--grpc-port is a port number, 1 to 65535")
    if args.token_lifetime < 1:
        parser.error("--token-lifetime is a number of seconds, at least 1")
    base_url = f"http://{args.host}:{args.port}"
    auth = (
        DemoAuth(bearer_token=args.bearer_token, api_key=args.api_key)
        if args.bearer_token or args.api_key
        else None
    )
    print(f"A2A demo agent at {base_url}  (card: {base_url}/.well-known/agent-card.json)")  # noqa: T201
    if args.grpc_port is not None:
        print(f"gRPC at {args.host}:{args.grpc_port}")  # noqa: T201
    if auth:
        print("Requests need a credential; the card and /files/... stay public.")  # noqa: T201
    oauth = DemoOAuth(access_token_lifetime=args.token_lifetime) if args.oauth else None
    if tenants:
        print(f"Tenants: {', '.join(tenants)} (any other tenant is refused).")  # noqa: T201
    if oauth:
        _print_oauth(oauth, OAuthEndpoints(base_url))
    app = build_app(
        base_url,
        auth=auth,
        oauth=oauth,
        database_url=args.database_url,
        card_signing=args.card_signing,
        grpc_port=args.grpc_port,
        tenants=tenants,
        required_extension=args.require_extension,
    )
    # Lifespan on: the app opens its database and its gRPC server on uvicorn's loop.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="on")


def _print_oauth(oauth: DemoOAuth, endpoints: OAuthEndpoints) -> None:
    # The secret is the public demo default, printed so people can try the flows.
    lines = [
        f"OAuth: client id {oauth.client_id}, secret {oauth.client_secret}, "
        f"scope {A2A_SCOPE}, access tokens last {oauth.access_token_lifetime} s",
        f"  issuer         {endpoints.issuer}",
        f"  metadata       {endpoints.metadata}",
        f"  OpenID config  {endpoints.openid_configuration}",
        f"  authorize      {endpoints.authorization}",
        f"  token          {endpoints.token}",
        f"  device         {endpoints.device_authorization}",
        f"  approve at     {endpoints.device_verification}",
        "Requests need an access token; the card, /files/... and /oauth/... stay public.",
    ]
    print("\n".join(lines), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
