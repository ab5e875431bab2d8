"""Checks an agent card as fetched, and says what an extended card adds to the public one.

`check_card` works on the raw JSON (not the SDK's parse), so it also judges cards the SDK
rejects or silently repairs. It detects the card's layout: A2A 1.0 (`supportedInterfaces`)
or legacy 0.3 (`url`, `protocolVersion` and `preferredTransport` at the top level), and
applies that version's rules. Sources: the 1.0 proto's REQUIRED markers and comments
(`a2a.types.a2a_pb2`, a2aproject/A2A `specification/a2a.proto`), the 0.3 JSON schema
(a2aproject/A2A `specification/json/a2a.json`), the spec text (`docs/specification.md`),
and what a2a-sdk 1.3.0's card parser and `ClientFactory` accept.

Modules, each importing only those above it:
- `findings`: `CardWarning`, and `CardReport`, the typed reads that record findings.
- `urls`: the URL rules several field groups share (absolute, no cleartext).
- `fields`: name, description, versions, provider, links, signatures; misspelled names.
- `interfaces`: where to reach the agent (1.0 interfaces; 0.3 url and transports).
- `security`: security schemes, OAuth flows, security requirements.
- `capabilities`: capability flags, extensions, the extended card.
- `skills`: skills and media types.
- `checker`: `check_card`, and each version's table of field checks (1.0 and 0.3).
- `differences`: `card_differences`, what an extended card adds.
"""

from services.inspector.card_check.checker import check_card
from services.inspector.card_check.differences import card_differences
from services.inspector.card_check.findings import CardWarning

__all__ = ["CardWarning", "card_differences", "check_card"]
