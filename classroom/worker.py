"""The classroom app's model process: it hosts every browser session's pair of runs (``runs.Lockstep``).

Started by the app's server (``runs.ModelProcess``) as ``python -m classroom.worker`` from the project
root. It imports the model first, while the server serves the first page, then reads pickled requests
``(id, op, pair, arg)`` from stdin, one after another: ``new`` (build pair ``pair`` for a ``Setup``;
answers the city and the pair's start), ``step`` (``arg`` days; answers the records not yet sent) and
``drop``. Each pair has its own thread, so one class's 15-second history replay does not hold up another
student's steps (the threads share this process's core). Answers ``(id, ok, value)`` go to stdout, an
error as the exception. It exits when its stdin closes (the server has stopped).
"""

from __future__ import annotations

import os
import pickle
import queue
import sys
import threading
import time
import traceback


def _answerer(out):
    lock = threading.Lock()

    def answer(rid: int, ok: bool, value) -> None:
        try:
            data = pickle.dumps((rid, ok, value))
        except Exception:   # noqa: BLE001 - an exception that does not pickle is sent as its text
            data = pickle.dumps((rid, False, RuntimeError(f"{type(value).__name__}: {value}")))
        with lock:
            out.write(data)
            out.flush()

    return answer


def serve_pair(requests: queue.SimpleQueue, answer) -> None:
    """Build one pair and step it, request by request, until it is dropped."""
    from classroom.runs import Lockstep

    pair = None
    while True:
        rid, op, arg = requests.get()
        try:
            if op == "drop":
                answer(rid, True, None)
                return
            if op == "new":
                pair = Lockstep(arg)
                answer(rid, True, pair.facts())
            elif op == "step":
                started = time.perf_counter()
                for _ in range(int(arg)):
                    pair.step()
                answer(rid, True, {**pair.news(), "days": int(arg), "seconds": time.perf_counter() - started})
            else:
                raise ValueError(f"unknown request {op!r}")
        except Exception as e:   # noqa: BLE001 - the page shows it
            traceback.print_exc(file=sys.stderr)
            answer(rid, False, e)


def main() -> None:
    requests, answer = sys.stdin.buffer, _answerer(sys.stdout.buffer)
    sys.stdout = sys.stderr              # a print anywhere below must not mix into the answers
    import model.model  # noqa: F401 - the expensive imports, done before the first request is read
    import model.scenario  # noqa: F401
    import model.state  # noqa: F401

    pairs: dict[int, queue.SimpleQueue] = {}
    while True:
        try:
            rid, op, pair, arg = pickle.load(requests)
        except (EOFError, OSError):
            break
        if op == "new":
            pairs[pair] = queue.SimpleQueue()
            threading.Thread(target=serve_pair, args=(pairs[pair], answer), daemon=True,
                             name=f"pair-{pair}").start()
        if pair not in pairs:
            answer(rid, False, KeyError(f"no pair {pair} in the model process"))
            continue
        pairs[pair].put((rid, op, arg))
        if op == "drop":
            del pairs[pair]
    os._exit(0)                          # the server has gone: nobody is left to answer


if __name__ == "__main__":
    main()
