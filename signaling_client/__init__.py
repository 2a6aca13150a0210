"""A small Python client for the HTTP signaling API: for bots, tests and server-side peers.

    from signaling_client import Client

    alice = Client("http://127.0.0.1:8080")
    alice.register("Alice", listed=True)
    alice.send("bob-peer-id", "offer", {"sdp": "..."})
    for message in alice.messages(transport="sse"):
        print(message.type, message.data, "from", message.sender)

Only ``requests`` and the standard library are needed. Sends carry a client
message id (``cid``) so a retried POST can be recognised; reading resumes
from the last message seen (``Last-Event-ID`` for SSE, the cursor for
long-poll) after every reconnect.
"""

from .client import Client
from .errors import SessionEnded, SignalingError
from .messages import Message, Outgoing, new_cid
from .version import __version__

__all__ = ["Client", "Message", "Outgoing", "SessionEnded", "SignalingError", "__version__", "new_cid"]
