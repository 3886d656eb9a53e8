"""Request signatures: Feishu's and DingTalk's (the same string in opposite HMAC slots), and ours.

Reference §1.1: Feishu signs with key = f"{timestamp}\\n{secret}" over an empty message, the timestamp
in seconds, both in the JSON body; DingTalk signs the message f"{timestamp}\\n{secret}" with key = secret,
the timestamp in milliseconds, both in the URL. Reusing one for the other always fails (Feishu 19021).
The generic webhook carries HMAC-SHA256(secret, f"{timestamp}.{body}") in a header, as Stripe-style
receivers expect: the timestamp in the signed string stops a replay of an old body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "dingtalk_sign", "feishu_sign", "webhook_signature"]

SIGNATURE_HEADER = "X-Policybot-Signature"
TIMESTAMP_HEADER = "X-Policybot-Timestamp"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: base64(HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b"")), ts in seconds."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"))), ts in milliseconds."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac))


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """Our generic webhook: "sha256=" + hex HMAC-SHA256(secret, f"{ts}." + body)."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
