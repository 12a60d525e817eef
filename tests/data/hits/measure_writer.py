"""measure_writer.py: the row writer the real-network parts of measure.tsv
share (make_measure_g.py to make_measure_o.py).

A part is a table of User-Agents (UA), of addresses with where each comes
from (NET: name -> (address, source)) and of sources (URL: name -> address
of the page), and a list of rows. Part.add() writes one hit in the columns
of hits.tsv; its last column is the source page, the note and where the
address comes from. Part.write() cuts measure.tsv at the part's header, if
it is there, and appends the header and the rows: a part rewrites itself and
every part after it, so the parts' scripts run in their order.

NOT_QUOTED and PERSON are the conventions' notes for a row whose source
quotes no User-Agent (parts I to Q): the row then carries an ordinary
current browser, without Accept-Language for a machine and with the
language it sends for a person, and its note says so in these words.
"""
import os
from collections import Counter

NOT_QUOTED = "UA not quoted: an ordinary current browser, no Accept-Language"
PERSON = "UA not quoted: an ordinary browser with the language it sends"


class Part:
    def __init__(self, prefix, msg_base, ua, net, url):
        self.prefix = prefix
        self.m = msg_base
        self.ua = ua
        self.net = net
        self.url = url
        self.rows = []

    def msg(self):
        """The next message number of this part."""
        self.m += 1
        return self.m

    def add(self, case, exp, mid, rcpt, item, kind, t, net, lang, ua, src, note, method="GET"):
        addr, nsrc = self.net[net]
        self.rows.append([f"{self.prefix}{case}", exp, str(mid), str(rcpt), str(item), kind, method,
                          str(t), addr, lang, self.ua[ua], f"{self.url[src]}: {note}; {nsrc}"])

    def write(self, header):
        """Replaces measure.tsv from `header` on (up to its first colon) with
        this part's header and rows."""
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "measure.tsv")
        text = open(path).read()
        key = header.split(":")[0]
        if key in text:
            text = text[:text.index(key)]
        with open(path, "w") as f:
            f.write(text)
            f.write(header)
            for r in self.rows:
                f.write("\t".join(r) + "\n")
        print(len(self.rows), "rows", dict(Counter(r[1] for r in self.rows)))
