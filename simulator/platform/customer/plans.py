"""Communication plans (APNs, radios, networks), rate plans with their zones, and IPsec tunnels."""

from __future__ import annotations

import enum
import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.platform.customer.base import Model, Name
from simulator.platform.units import ByteCount

__all__ = [
    "Apn",
    "CommunicationPlan",
    "NetworkRule",
    "RadioType",
    "RatePlan",
    "Service",
    "Tunnel",
    "Zone",
]


_APN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?$")


class Service(enum.StrEnum):
    """What a communication plan lets a SIM do."""

    DATA = "data"
    SMS = "sms"
    VOICE = "voice"


class RadioType(enum.StrEnum):
    """Radio access technologies a plan may allow."""

    LTE_M = "LTE-M"
    NB_IOT = "NB-IoT"
    LTE = "LTE"
    UMTS = "3G"
    GSM = "2G"


class Apn(Model):
    """An access point name; a private one reaches the customer through an IPsec tunnel."""

    name: str = Field(min_length=1, max_length=100)
    private: bool = False
    tunnel: Name | None = None

    @field_validator("name")
    @classmethod
    def _labels(cls, value: str) -> str:
        for label in value.split("."):
            if not _APN_LABEL.match(label):
                raise ValueError(
                    f"APN {value!r}: label {label!r} must be letters, digits and inner hyphens",
                )
        return value

    @model_validator(mode="after")
    def _tunnel_when_private(self) -> Apn:
        if self.private and self.tunnel is None:
            raise ValueError(f"private APN {self.name!r} needs the tunnel it goes through")
        if not self.private and self.tunnel is not None:
            raise ValueError(f"public APN {self.name!r} cannot go through tunnel {self.tunnel!r}")
        return self


class NetworkRule(Model):
    """A network a SIM may attach to: one operator by MCC-MNC, or every operator of a country."""

    mcc_mnc: str | None = Field(default=None, pattern=r"^\d{5,6}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    @model_validator(mode="after")
    def _exactly_one(self) -> NetworkRule:
        if (self.mcc_mnc is None) == (self.country is None):
            raise ValueError("give exactly one of mcc_mnc (e.g. '24001') or country (e.g. 'SE')")
        return self


class CommunicationPlan(Model):
    """What a SIM may do: services, APNs, networks and radio types."""

    name: Name
    services: list[Service] = Field(default_factory=lambda: [Service.DATA], min_length=1)
    apns: list[Apn] = Field(default_factory=list)
    networks: list[NetworkRule] = Field(min_length=1)
    radio_types: list[RadioType] = Field(min_length=1)

    @model_validator(mode="after")
    def _apn_for_data(self) -> CommunicationPlan:
        if Service.DATA in self.services and not self.apns:
            raise ValueError(f"plan {self.name!r} offers data, so it needs at least one APN")
        return self


class Zone(Model):
    """A group of countries priced alike."""

    name: Name
    countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(min_length=1)
    price_per_mb: float = Field(ge=0)


class RatePlan(Model):
    """What data costs: allowance per cycle, per SIM or pooled, and the overage limit."""

    name: Name
    allowance: ByteCount
    """Per SIM and billing cycle; for a pooled plan each SIM adds this much to the pool."""
    pooled: bool = False
    overage_limit: ByteCount | None = None
    """Data beyond the allowance before data is blocked; None = never blocked."""
    monthly_fee: float = Field(default=0.0, ge=0)
    zones: list[Zone] = Field(default_factory=list)


class Tunnel(Model):
    """The customer's IPsec tunnel behind a private APN."""

    name: Name
    peer: IPv4Address
    """The customer's VPN gateway."""
    subnets: list[IPv4Network] = Field(min_length=1)
    """The customer's networks reached through the tunnel."""
    ike_version: Literal[1, 2] = 2
