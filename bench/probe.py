#!/usr/bin/env python3
"""An independent latency probe to run beside wrk (diagnostic, not part of run.sh).

    python3 bench/probe.py PATH SECONDS PORT

One keep-alive HTTP/1.1 connection to 127.0.0.1:PORT, one GET of PATH every
5 ms for SECONDS; prints the number of requests, p50, p99 and max latency in
ms, and how many took over 10 ms. Used to check wrk's p99 (ARCHITECTURE.md,
"Benchmark": some rounds' wrk latencies are inconsistent with wrk's own
throughput). Reads responses by Content-Length only (no chunked bodies).
"""
import socket
import sys
import time


def main() -> None:
    path, duration, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
        time.sleep(0.005)
    latencies.sort()
    n = len(latencies)
    print(
        f"probe n={n} p50 {latencies[n // 2]:.2f} p99 {latencies[int(n * 0.99)]:.2f} "
        f"max {latencies[-1]:.2f} over10ms {sum(1 for x in latencies if x > 10)}"
    )


if __name__ == "__main__":
    main()
