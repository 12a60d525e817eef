"""A small web server on 127.0.0.1 for the browser tests: serves the pages
registered in `pages` (path -> (content type, bytes)), answers every other
image-looking path with one fixed PNG, and counts requests per path. Runs in a
thread; stop() shuts it down."""
import http.server
import struct
import threading
import zlib


def png(width, height, rgb):
    """A solid-colour PNG (no dependency on an image library)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


FIXED_IMAGE = png(16, 16, (200, 60, 40))


class WebServer:
    def __init__(self):
        self.pages = {}
        self.hits = {}
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.hits[self.path] = srv.hits.get(self.path, 0) + 1
                page = srv.pages.get(self.path)
                if page is None and self.path.split("?")[0].startswith("/page/"):
                    page = ("text/html; charset=utf-8",
                            f"<!doctype html><title>landing</title><p>landed at {self.path}</p>"
                            .encode())
                if page is None:
                    page = ("image/png", FIXED_IMAGE)
                self.send_response(200)
                self.send_header("Content-Type", page[0])
                self.send_header("Content-Length", str(len(page[1])))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(page[1])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
