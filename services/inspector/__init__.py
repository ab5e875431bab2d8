"""The inspector: capture A2A traffic, check it against the spec, show it row by row.

- `capture`: an httpx transport that records exchanges and SSE frames, redacted, bounded.
- `grpc_capture`: the same for gRPC calls (a `grpc.aio` client interceptor); `grpcurl`:
  the `grpcurl` command line that repeats a recorded gRPC call, secrets as placeholders.
- `validation`: checks a recorded stream against the A2A 1.0 spec.
- `inspection`: what the Streaming inspector shows of one stream (rows, summary, export).
- `replay`: which recorded request a replay resends; the original and replay compared.
- `curl`: a recorded HTTP request as a curl command line, secrets as placeholders.
- `stream_file`: the stream file format (JSON Lines) read back through `services.formats`.
- `deliveries`: a task's push notification deliveries as a stream record, oldest first.
- `card_check`: checks an agent card as fetched; what an extended card adds.

Nothing here knows the runtime, the client or Streamlit: the client layer plugs
`capture.CapturingTransport` into its httpx client.
"""

from services.inspector import (
    capture,
    card_check,
    curl,
    deliveries,
    grpc_capture,
    grpcurl,
    inspection,
    replay,
    stream_file,
    validation,
)

__all__ = [
    "capture",
    "card_check",
    "curl",
    "deliveries",
    "grpc_capture",
    "grpcurl",
    "inspection",
    "replay",
    "stream_file",
    "validation",
]
