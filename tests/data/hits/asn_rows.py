#!/usr/bin/env python3
"""asn_rows.py: prints the ip-location-db ASN rows (npm @ip-location-db/asn,
CC BY 4.0) holding the client addresses of the given replay files that
asn.csv lacks, to append to asn.csv. Usage (source root):
  python3 tests/data/hits/asn_rows.py ASN_DIR tests/data/hits/*.tsv >> tests/data/hits/asn.csv
"""
import csv, ipaddress, os, sys

def load(path):
    rows = []
    with open(path) as f:
        for r in csv.reader(line for line in f if not line.startswith("#")):
            if len(r) >= 4:
                rows.append((ipaddress.ip_address(r[0]), ipaddress.ip_address(r[1]), r))
    return rows

asn_dir = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
have = load(os.path.join(here, "asn.csv"))
db = load(os.path.join(asn_dir, "asn-ipv4.csv")) + load(os.path.join(asn_dir, "asn-ipv6.csv"))
out = []
for tsv in sys.argv[2:]:
    for line in open(tsv):
        if line.startswith("#") or not line.strip():
            continue
        a = ipaddress.ip_address(line.split("\t")[8])
        if any(lo.version == a.version and lo <= a <= hi for lo, hi, _ in have + out):
            continue
        for lo, hi, r in db:
            if lo.version == a.version and lo <= a <= hi:
                out.append((lo, hi, r))
                break
w = csv.writer(sys.stdout, lineterminator="\n")
for _, _, r in out:
    w.writerow(r)
