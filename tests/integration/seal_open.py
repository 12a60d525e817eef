"""Opens the store's sealed values (docs/privacy.md, lib/store/seal.c) in the
tests, with libsodium through ctypes: the tests that look into the database
with sqlite3 read what homing stored, not its ciphertext. Independent of the
C code on purpose: it is written from the format in include/homing/seal.h, so
a change of the format that the C side alone makes fails the tests."""
import base64
import ctypes
import ctypes.util
import ipaddress
import re

_na = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
_na.sodium_init()
PREFIX = "~s1:"
L_CHARS = 15
TOKEN = re.compile(r"~s1:[a-z2-7]{15}[A-Za-z0-9_-]+")
B32 = "abcdefghijklmnopqrstuvwxyz234567"


def _kdf(master, i):
    out = ctypes.create_string_buffer(32)
    _na.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32), ctypes.c_uint64(i),
                                   ctypes.c_char_p(b"homseal1"), master)
    return out.raw


def _hash(data, key, n):
    out = ctypes.create_string_buffer(n)
    _na.crypto_generichash(out, ctypes.c_size_t(n), data, ctypes.c_ulonglong(len(data)), key,
                           ctypes.c_size_t(len(key)))
    return out.raw


class Seal:
    def __init__(self, key_file):
        hexkey = [ln for ln in open(key_file).read().splitlines()
                  if ln and not ln.startswith("#")][0]
        master = bytes.fromhex(hexkey)
        self.lookup, self.siv, self.enc = (_kdf(master, i) for i in (1, 2, 3))

    def _iv(self, text):
        b = text.encode("utf-8", "surrogateescape")
        low = bytes(c + 32 if 65 <= c <= 90 else c for c in b)
        return _hash(low, self.lookup, 9) + _hash(b, self.siv, 3)

    def open(self, tok):
        """The value of one sealed token; ValueError if it does not open."""
        bits = "".join(format(B32.index(c), "05b") for c in tok[4:4 + L_CHARS])
        lpart = int(bits[:72], 2).to_bytes(9, "big")
        rest = tok[4 + L_CHARS:]
        raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))
        iv = lpart + raw[:3]
        c = raw[3:]
        out = ctypes.create_string_buffer(len(c))
        nonce = iv + bytes(12)
        _na.crypto_stream_xchacha20_xor(out, c, ctypes.c_ulonglong(len(c)), nonce, self.enc)
        p = out.raw
        cands = []
        if len(p) in (4, 16):
            cands.append(str(ipaddress.ip_address(p)))
        if p[:1] == b"t":
            cands.append(p[1:].decode("utf-8", "surrogateescape"))
        for text in cands:
            if self._iv(text) == iv:
                return text
        raise ValueError(f"sealed value does not open: {tok}")

    def text(self, value):
        """value with every sealed token opened (others left as they are)."""
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape")
        if not isinstance(value, str) or PREFIX not in value:
            return value

        def one(m):
            try:
                return self.open(m.group(0))
            except (ValueError, IndexError):
                return m.group(0)
        return TOKEN.sub(one, value)
