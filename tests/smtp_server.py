"""A tiny SMTP server for tests (standard library only): enough of RFC 5321 for
smtplib to deliver, keeping every message it accepted."""
from __future__ import annotations

import socket
import threading
from email import message_from_bytes


class TinySMTP:
    def __init__(self, port: int = 0):
        self.messages: list = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 tiny ESMTP\r\n")
        recipients = []
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-tiny\r\n250 8BITMIME\r\n")
                elif verb == b"RCPT":
                    recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                    conn.sendall(b"250 OK\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    body = b""
                    while True:
                        chunk = reader.readline()
                        if chunk in (b".\r\n", b""):
                            break
                        body += chunk
                    mail = message_from_bytes(body)
                    self.messages.append((list(recipients), mail))
                    recipients.clear()
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # HELO, MAIL, RSET, NOOP
                    conn.sendall(b"250 OK\r\n")
        finally:
            conn.close()

    def stop(self):
        self._stop = True
        self.sock.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
