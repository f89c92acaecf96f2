#!/usr/bin/python3
"""09_tls/tls_peer.py — a TLS client for the tests that does what redis-cli
cannot: end its side of a TLS connection in a chosen way, then report every
byte it still received and how the server ended the stream.

    tls_peer.py PORT CAFILE END [DATA]
      END: close_notify   send TLS's close_notify alert, then a FIN
           fin            a bare FIN (a "dirty shutdown": no close_notify)
           none           end nothing; wait for the server to end
    DATA (with \\r\\n escapes) is sent first. Prints the bytes received as
    Python's repr, then "end: close_notify", "end: FIN without close_notify"
    or "end: alert REASON" (a fatal alert from the server).
"""
import socket
import ssl
import sys

port, cafile, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = sys.argv[4].encode().decode("unicode_escape").encode() if len(sys.argv) > 4 else b""
ctx = ssl.create_default_context(cafile=cafile)
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")


def flush():
    out = outgoing.read()
    if out:
        sock.sendall(out)


def pump():
    """Bytes from the socket into OpenSSL; False at the TCP end."""
    got = sock.recv(65536)
    if got:
        incoming.write(got)
        return True
    incoming.write_eof()
    return False


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        pump()
flush()
tls.write(data)
flush()
if how == "close_notify":
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    flush()
if how in ("close_notify", "fin"):
    sock.shutdown(socket.SHUT_WR)

received, end = b"", None
while end is None:
    try:
        chunk = tls.read(65536)
        if not chunk:
            end = "close_notify"
        received += chunk
    except ssl.SSLWantReadError:
        if not pump():
            try:
                received += tls.read(65536)
                end = "close_notify"
            except ssl.SSLEOFError:
                end = "FIN without close_notify"
            except ssl.SSLWantReadError:
                end = "FIN without close_notify"
    except ssl.SSLZeroReturnError:
        end = "close_notify"
    except ssl.SSLEOFError:
        end = "FIN without close_notify"
    except ssl.SSLError as e:
        end = "alert " + e.reason
print(repr(received))
print("end:", end)
