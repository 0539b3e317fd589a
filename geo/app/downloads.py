"""Downloads that never become a server address.

Streamlit's download button serves the file at a `/media/` URL that answers to anyone holding it, and
keeps answering after the session ends until later script runs collect it. An export of incidents must
reach only the signed-in session that asked for it: the bytes travel over that session's own WebSocket,
inside a small frame that turns them into a Blob in the browser and saves it. Nothing is stored on the
server, and the Blob's address lives only in that browser tab.
"""
from __future__ import annotations

import base64
import html
import json

# Streamlit's WebSocket carries at most server.maxMessageSize (200 MB by default); base64 adds a third.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024


def browser_download_html(data: bytes, filename: str, media_type: str) -> str:
    """A page that saves `data` as `filename` once, and offers a link to save it again."""
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ValueError(f"{filename} is {len(data) / 1e6:.0f} MB, more than a browser download here takes "
                         f"({MAX_DOWNLOAD_BYTES // 1024 // 1024} MB): narrow the filters, or use "
                         f"`python -m geo export`")
    payload = json.dumps({"b64": base64.b64encode(data).decode("ascii"), "name": filename, "type": media_type})
    label = html.escape(f"Save {filename} again ({_size(len(data))})")
    # `</` cannot occur in base64 or in our file names, so the JSON cannot close the script element.
    return ("<html><body style='margin:0;font:14px sans-serif'>"
            f"<a id='save' href='#'>{label}</a>"
            "<script>"
            f"const d = {payload};"
            "const bytes = Uint8Array.from(atob(d.b64), c => c.charCodeAt(0));"
            "const a = document.getElementById('save');"
            "a.href = URL.createObjectURL(new Blob([bytes], {type: d.type}));"
            "a.download = d.name;"
            "a.click();"
            "window.addEventListener('pagehide', () => URL.revokeObjectURL(a.href));"
            "</script></body></html>")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"
