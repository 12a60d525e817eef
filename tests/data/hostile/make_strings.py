#!/usr/bin/env python3
"""Writes strings.json: the hostile strings that output escaping is tested with
(tests/unit/test_util.c, tests/integration/test_output_escaping.py), each with
the bytes as hex and what every writer must make of it (docs/hacking.md,
"Output escaping"). The expectations are written by hand here, not computed.

  terminal       homing_str_escape with HOMING_ESCAPE_UTF8 (a UTF-8 terminal)
  terminal_ascii homing_str_escape without it (any other terminal)
  csv            homing_csv_cell with HOMING_ESCAPE_UTF8
  json           homing_json_buf_text: the JSON text of the string
"""
import json

CASES = [
    # name, bytes, terminal, terminal_ascii, csv, json
    ("osc-title", b"\x1b]0;pwned\x07", r"\x1b]0;pwned\x07", None, None,
     r'"\u001B]0;pwned\u0007"'),
    ("clear-screen", b"\x1b[2J\x1b[H", r"\x1b[2J\x1b[H", None, None, r'"\u001B[2J\u001B[H"'),
    ("csi-c1-utf8", b"red\xc2\x9b31mX", r"red\u009b31mX", None, None, r'"red\u009b31mX"'),
    ("c1-nel-osc", b"a\xc2\x85b\xc2\x9d0;t\xc2\x9c", r"a\u0085b\u009d0;t\u009c", None, None,
     r'"a\u0085b\u009d0;t\u009c"'),
    ("csi-raw-byte", b"a\x9b2Jb", r"a\x9b2Jb", None, None, r'"a\\x9b2Jb"'),
    ("raw-c1-and-utf8", b"M\xc3\xbcller\x9b\x1b", r"Müller\x9b\x1b", r"M\u00fcller\x9b\x1b",
     None, r'"Müller\\x9b\\x1b"'),
    ("bidi", "abc\u202eevil\u2066x\u2069\u202a\u202d".encode(),
     r"abc\u202eevil\u2066x\u2069\u202a\u202d", None, None,
     r'"abc\u202eevil\u2066x\u2069\u202a\u202d"'),
    ("line-separators", "a\u2028b\u2029c".encode(), r"a\u2028b\u2029c", None, None,
     r'"a\u2028b\u2029c"'),
    ("crlf", b"a\r\nb\rc\nd", r"a\r\nb\rc\nd", None, None, r'"a\r\nb\rc\nd"'),
    ("tab-del-c0", b"a\tb\x7fc\x01\x08", r"a\tb\x7fc\x01\x08", None, None,
     r'"a\tb\u007fc\u0001\b"'),
    ("backslash", b"C:\\x1b\\", r"C:\\x1b\\", None, None, r'"C:\\x1b\\"'),
    ("plain-utf8", "Müller ☃ ü".encode(), "Müller ☃ ü", r"M\u00fcller \u2603 \u00fc", None,
     '"Müller ☃ ü"'),
    ("emoji", "x\U0001f600".encode(), "x\U0001f600", r"x\U0001f600", None, '"x\U0001f600"'),
    ("nbsp-not-c1", "a\u00a0b".encode(), "a\u00a0b", r"a\u00a0b", None, '"a\u00a0b"'),
    ("overlong", b"\xc0\xaf/", r"\xc0\xaf/", None, None, r'"\\xc0\\xaf/"'),
    ("surrogate", b"\xed\xa0\x80z", r"\xed\xa0\x80z", None, None, r'"\\xed\\xa0\\x80z"'),
    ("cut-sequence", b"ab\xe2\x82", r"ab\xe2\x82", None, None, r'"ab\\xe2\\x82"'),
    ("formula", b'=HYPERLINK("http://x","y")', '=HYPERLINK("http://x","y")', None,
     '"\'=HYPERLINK(""http://x"",""y"")"', r'"=HYPERLINK(\"http://x\",\"y\")"'),
    ("formula-plus", b"+1+2", "+1+2", None, "\"'+1+2\"", '"+1+2"'),
    ("formula-minus", b"-2+3", "-2+3", None, "\"'-2+3\"", '"-2+3"'),
    ("formula-at", b"@SUM(A1)", "@SUM(A1)", None, "\"'@SUM(A1)\"", '"@SUM(A1)"'),
    ("formula-tab", b"\t=1", r"\t=1", None, "\"'\\t=1\"", r'"\t=1"'),
    ("formula-cr", b"\r=1", r"\r=1", None, "\"'\\r=1\"", r'"\r=1"'),
    ("comma-quote", b'a,b"c', 'a,b"c', None, '"a,b""c"', r'"a,b\"c"'),
    ("esc-then-comma", b"\x1b[31m,x", r"\x1b[31m,x", None, r'"\x1b[31m,x"', r'"\u001B[31m,x"'),
    ("empty", b"", "", None, None, '""'),
]

out = []
for name, raw, term, term_ascii, csv, js in CASES:
    out.append({
        "name": name,
        "hex": raw.hex(),
        "terminal": term,
        "terminal_ascii": term if term_ascii is None else term_ascii,
        "csv": term if csv is None else csv,
        "json": js,
    })
with open("strings.json", "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=True)
    f.write("\n")
