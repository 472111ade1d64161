"""Sending a print job to a network receipt printer: raw bytes to TCP port 9100 ("JetDirect",
the port every Ethernet ESC/POS printer listens on), with a timeout on connecting and on
each write, so a printer that is off answers `printer.unreachable` (503) within seconds."""

from __future__ import annotations

import socket

from omnitill.domain.labels.ticket import PrinterUnreachable

DEFAULT_PORT = 9100
TIMEOUT_SECONDS = 5.0


def send(host: str, port: int, data: bytes, *, timeout: float = TIMEOUT_SECONDS) -> int:
    """Hand `data` to the printer at host:port; the number of bytes sent."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
    except TimeoutError as exc:
        raise PrinterUnreachable(host, port, "no answer") from exc
    except OSError as exc:
        raise PrinterUnreachable(host, port, exc.strerror or type(exc).__name__) from exc
    return len(data)
