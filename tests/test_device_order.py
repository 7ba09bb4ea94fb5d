"""The fleet list's order: rows sorted by device id, merged as devices arrive."""

import random

import numpy as np

from diagnostics.device_order import DeviceOrder


def test_rows_come_in_id_order_however_the_devices_arrived():
    rng = random.Random(7)
    ids: list[str] = []
    order = DeviceOrder()
    for size in (0, 1, 500, 3, 2000, 1):
        ids += [f"dev-{rng.randrange(10**9):09d}-{len(ids)}" for _ in range(size)]
        rows = order.take(*order.fresh(ids))
        assert [ids[r] for r in rows.tolist()] == sorted(ids)


def test_a_merge_another_request_made_first_is_not_made_twice():
    ids = ["m-3", "m-1", "m-2"]
    order = DeviceOrder()
    late = order.fresh(ids)  # asked before the other request merged the same devices
    order.take(*order.fresh(ids))
    ids += ["m-0"]
    order.take(*order.fresh(ids))
    rows = order.take(*late)
    assert rows.tolist() == [3, 1, 2, 0]
    assert isinstance(rows, np.ndarray)
