"""A TCP backend for the install and package tests: prints its port, then answers every
connection with one line and closes it. Runs until killed."""
import socket
import sys

line = (sys.argv[1] if len(sys.argv) > 1 else "hello from backend").encode() + b"\n"
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    try:
        conn.sendall(line)
    finally:
        conn.close()
