"""Small worlds built in Python for simulator tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from protocol.identifiers import Iccid, Imei
from simulator.world.spec import WorldSpec

FIRST_ICCID = Iccid.from_body("894620005000000000")
FIRST_IMEI = Imei.from_body("35693803000000")
START = datetime(2026, 3, 2, tzinfo=UTC)

CUSTOMER = {
    "customer": "Savanna Trackers AB",
    "accounts": [
        {
            "id": "savanna",
            "name": "Savanna Trackers AB",
            "kind": "enterprise",
            "settings": {"test_quota": "30 KB", "after_test": "ACTIVATED"},
        },
        {
            "id": "savanna-trial",
            "name": "Savanna Trackers pilots",
            "kind": "business_unit",
            "parent": "savanna",
            "settings": {"test_quota": "2 KB", "after_test": "INVENTORY"},
        },
    ],
    "communication_plans": [
        {
            "name": "collar",
            "services": ["data"],
            "apns": [
                {"name": "iot.savanna", "private": True, "tunnel": "hq"},
                {"name": "internet.iot"},
            ],
            "networks": [{"mcc_mnc": "63902"}, {"country": "TZ"}],
            "radio_types": ["LTE-M"],
        },
    ],
    "rate_plans": [
        {"name": "collar-5mb", "allowance": "5 MB", "overage_limit": "1 MB"},
    ],
    "tunnels": [{"name": "hq", "peer": "198.51.100.20", "subnets": ["10.40.0.0/16"]}],
    "sim_ranges": [
        {
            "first_iccid": str(FIRST_ICCID),
            "count": 20,
            "account": "savanna",
            "communication_plan": "collar",
            "rate_plan": "collar-5mb",
            "first_imsi": "240070000000000",
            "state": "ACTIVATED",
            "imei_lock": True,
        },
    ],
}

OPERATORS = [
    {"mcc_mnc": "63902", "name": "Safaricom", "country": "KE"},
    {"mcc_mnc": "64005", "name": "Airtel TZ", "country": "TZ"},
    {"mcc_mnc": "20801", "name": "Orange FR", "country": "FR"},
]
CELLS = [
    {
        "id": 101,
        "operator": "63902",
        "lat": -1.40,
        "lon": 35.00,
        "radius_km": 15,
        "radio_types": ["LTE-M", "NB-IoT"],
    },
    {
        "id": 102,
        "operator": "63902",
        "lat": -1.40,
        "lon": 35.30,
        "radius_km": 15,
        "radio_types": ["LTE-M", "NB-IoT"],
    },
    {
        "id": 201,
        "operator": "64005",
        "lat": -2.50,
        "lon": 35.00,
        "radius_km": 15,
        "radio_types": ["LTE-M"],
    },
    {
        "id": 301,
        "operator": "20801",
        "lat": 47.0,
        "lon": -2.0,
        "radius_km": 10,
        "radio_types": ["LTE-M"],
    },
]


def collars(count: int = 3, **overrides) -> dict:
    group = {
        "name": "collar",
        "count": count,
        "name_format": "Giraffe collar {n}",
        "first_iccid": str(FIRST_ICCID),
        "first_imei": str(FIRST_IMEI),
        "apn": "iot.savanna",
        "site": "Maasai Mara",
        "time_zone": "Africa/Nairobi",
        "lat": -1.40,
        "lon": 35.00,
        "battery_mah": 6000,
        "report_interval": "15m",
        "report_jitter": "30s",
        "keepalive": "20m",
    }
    group.update(overrides)
    return group


def world(
    *, devices: list[dict] | None = None, faults=(), swaps=(), seed: int = 7, customer=None, **extra
) -> WorldSpec:
    return WorldSpec.model_validate(
        {
            "start": START,
            "seed": seed,
            "customer": customer or CUSTOMER,
            "operators": OPERATORS,
            "cells": CELLS,
            "devices": devices or [collars()],
            "faults": list(faults),
            "swaps": list(swaps),
            **extra,
        },
    )


def one_cell(count: int, faults=()) -> WorldSpec:
    """`count` collars out of reach of all cells but 101 (one SIM range holding them all)."""
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["count"] = count
    return world(
        customer=customer, devices=[collars(count, battery_mah=None, lon=34.90)], faults=faults
    )
