"""WARC-style payload digests: sha1:BASE32."""
import base64
import hashlib


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")
