#!/usr/bin/env python3
"""An independent latency probe to run beside wrk (bench/run.sh, cached rows).

    python3 bench/probe.py PATH SECONDS PORT [INTERVAL_MS [SAMPLES_FILE]]

One keep-alive HTTP/1.1 connection to 127.0.0.1:PORT, one GET of PATH every
INTERVAL_MS (default 1) ms for SECONDS; prints the number of requests, p50, p99 and max latency in
ms, and how many took over 10 ms. With SAMPLES_FILE, every latency (ms) is
appended to it, one per line, so that a row's rounds can be pooled. Its p99 is what one client's requests
took, with no correction for coordinated omission (wrk's p99 has it; see
run_wrk in bench/run.sh). A response with `Connection: close` (nginx closes
a keep-alive connection after 1,000 requests by default) is followed by a
new connection, opened before the next request's clock starts. Reads
responses by Content-Length only (no chunked bodies).
"""
import socket
import sys
import time


def main() -> None:
    path, duration, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    interval = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.001
    samples = sys.argv[5] if len(sys.argv) > 5 else None

    def connect() -> socket.socket:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    s = connect()
    request = f"GET {path} HTTP/1.1\r\nHost: probe\r\n\r\n".encode()
    end = time.time() + duration
    latencies = []
    while time.time() < end:
        t0 = time.perf_counter()
        s.sendall(request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(1 << 20)
            if not chunk:
                sys.exit("the server closed the connection")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
            None,
        )
        if length is None:
            sys.exit("a response without Content-Length")
        while len(rest) < length:
            rest += s.recv(1 << 20)
        latencies.append((time.perf_counter() - t0) * 1000)
        if any(line.lower() == b"connection: close" for line in head.split(b"\r\n")):
            s.close()
            s = connect()
        time.sleep(interval)
    if samples:
        with open(samples, "a") as f:
            f.writelines(f"{x:.4f}\n" for x in latencies)
    latencies.sort()
    n = len(latencies)
    print(
        f"probe n={n} p50 {latencies[n // 2]:.2f} p99 {latencies[int(n * 0.99)]:.2f} "
        f"max {latencies[-1]:.2f} over10ms {sum(1 for x in latencies if x > 10)}"
    )


if __name__ == "__main__":
    main()
