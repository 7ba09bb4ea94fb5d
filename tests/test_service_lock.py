"""The service's lock: a long write pauses to let a waiting reader in, and only a write does."""

import threading

from diagnostics.service_lock import ServiceLock


def test_a_reader_waiting_gets_in_at_the_writes_pause_and_not_before():
    lock = ServiceLock()
    read = threading.Event()
    waiting = threading.Event()

    def reader():
        waiting.set()
        with lock:
            read.set()

    with lock.writing():
        thread = threading.Thread(target=reader)
        thread.start()
        waiting.wait(5)
        assert not read.wait(0.1)  # the write holds the lock
        for _ in range(200):  # a pause gives the lock up a moment; the reader takes it
            lock.pause()
            if read.wait(0.01):
                break
        assert read.is_set()
    thread.join(5)


def test_a_pause_outside_a_write_or_inside_a_nested_one_keeps_the_lock():
    lock = ServiceLock()
    lock.pause()  # no write: nothing to give up
    with lock.writing(), lock.writing():
        lock.pause()
        taken = []
        thread = threading.Thread(target=lambda: taken.append(lock._state.acquire(timeout=0.05)))
        thread.start()
        thread.join(5)
        assert taken == [False]


def test_a_write_lets_readers_in_for_its_commit_and_paces_a_long_batch():
    lock = ServiceLock()
    pauses = []
    lock.pause = lambda: pauses.append(1)  # type: ignore[method-assign]
    assert list(lock.paced(range(2500), every=1000)) == list(range(2500))
    assert len(pauses) == 2
    with lock.writing():
        with lock.readers_in():
            got = threading.Event()
            done = threading.Event()

            def reader():
                with lock:
                    got.set()
                    done.wait(5)

            thread = threading.Thread(target=reader)
            thread.start()
            assert got.wait(5)  # the reader has the lock while the write commits
            done.set()
        thread.join(5)
