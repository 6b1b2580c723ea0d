"""``python -m reference.child``: Keras's side computed in a process whose TensorFlow has oneDNN off.

Started by reference/runner.py when the parent's TensorFlow runs with oneDNN on
(a notebook that imported it first, or ``TF_ENABLE_ONEDNN_OPTS=1``), and kept
for the parent's life: it imports TensorFlow once, then answers one job after
another on its stdin and stdout (reference/protocol.py) until stdin closes.
Anything else that writes to stdout goes to stderr instead.
"""

from __future__ import annotations

import os
import sys

from reference import numerics, protocol


def serve() -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt a reply
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    numerics.configure()  # the runner started it with oneDNN off; a setting of the user's it never sees
    from reference import jobs  # imports tensorflow

    protocol.write_message(replies, protocol.encode({"ready": True}))
    while (body := protocol.read_message(requests)) is not None:
        header, _ = protocol.decode(body)
        try:
            numerics.set_device(header["device"])
            arrays, state = jobs.run(header["job"], header["arguments"])
            reply = protocol.encode({"state": state}, arrays)
        except Exception as error:  # the parent raises it, in one line
            lines = str(error).strip().splitlines()
            reply = protocol.encode({"error": lines[0] if lines else "", "kind": type(error).__name__})
        protocol.write_message(replies, reply)


if __name__ == "__main__":
    serve()
