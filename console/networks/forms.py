"""The network forms: every engine field they can set is checked here; console.policy judges the request."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from django import forms

from console.containers.forms import NAME, _lines

DRIVERS = [("bridge", "bridge"), ("macvlan", "macvlan (Admins only)"), ("ipvlan", "ipvlan (Admins only)")]
ADMIN_FIELDS = ("driver", "options")
KEY = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_./-]{0,199}")


def pairs(text: str, what: str) -> dict[str, str]:
    """key=value lines, as `--label` and `--opt` take them."""
    found = {}
    for line in _lines(text):
        key, eq, value = line.partition("=")
        if not eq or not KEY.fullmatch(key.strip()):
            raise forms.ValidationError(f"“{line}”: write each {what} as key=value.")
        found[key.strip()] = value.strip()
    return found


def _multiline(**kwargs: Any) -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=20_000, **kwargs)


class NetworkForm(forms.Form):
    """`docker network create`."""

    name = forms.CharField(max_length=128)
    subnet = forms.CharField(max_length=64, required=False, help_text="e.g. 172.28.0.0/16; empty: any.")
    gateway = forms.CharField(max_length=64, required=False, help_text="e.g. 172.28.0.1, inside the subnet.")
    internal = forms.BooleanField(required=False, label="Internal (no way out of the network)")
    attachable = forms.BooleanField(required=False, initial=True, label="Attachable")
    labels = _multiline(help_text="key=value, one a line.")
    # Shown to Admins only (ADMIN_FIELDS); who may use them is decided by console.policy on the request.
    driver = forms.ChoiceField(choices=DRIVERS, initial="bridge", required=False)
    options = _multiline(label="Driver options", help_text="key=value, one a line, e.g. parent=eth0.")

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in ADMIN_FIELDS]

    def admin_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADMIN_FIELDS]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not NAME.fullmatch(name):
            raise forms.ValidationError("A name is letters, digits, _ . and -, starting with a letter or digit.")
        return name

    def clean_subnet(self) -> str:
        subnet = self.cleaned_data["subnet"].strip()
        if subnet:
            try:
                return str(ipaddress.ip_network(subnet, strict=True))
            except ValueError as exc:
                raise forms.ValidationError(f"Not a subnet: {exc}.") from None
        return subnet

    def clean_gateway(self) -> str:
        return _address(self.cleaned_data["gateway"])

    def clean_labels(self) -> dict[str, str]:
        return pairs(self.cleaned_data["labels"], "label")

    def clean_options(self) -> dict[str, str]:
        return pairs(self.cleaned_data["options"], "option")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        subnet, gateway = data.get("subnet"), data.get("gateway")
        if gateway and not subnet:
            self.add_error("gateway", "A gateway needs its subnet.")
        elif gateway and subnet and ipaddress.ip_address(gateway) not in ipaddress.ip_network(subnet):
            self.add_error("gateway", f"{gateway} is not in {subnet}.")
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = ("name", "driver", "subnet", "gateway", "internal", "attachable", "labels", "options")
        return {key: data[key] for key in keys}


def _address(text: str) -> str:
    text = text.strip()
    if text:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise forms.ValidationError(f"“{text}” is not an IP address.") from None
    return text


class ConnectForm(forms.Form):
    """`docker network connect [--alias …] [--ip …] <network> <container>`."""

    container = forms.CharField(max_length=128, help_text="A container's name or id.")
    aliases = forms.CharField(max_length=1000, required=False, help_text="Other names here, space-separated.")
    ip = forms.CharField(max_length=64, required=False, label="IPv4 address", help_text="Empty: the engine picks one.")

    def clean_container(self) -> str:
        name = self.cleaned_data["container"].strip().lstrip("/")
        if not NAME.fullmatch(name):
            raise forms.ValidationError("Name a container by its name or id.")
        return name

    def clean_aliases(self) -> list[str]:
        aliases = self.cleaned_data["aliases"].replace(",", " ").split()
        for alias in aliases:
            if not NAME.fullmatch(alias):
                raise forms.ValidationError(f"“{alias}” is not a name.")
        return aliases

    def clean_ip(self) -> str:
        return _address(self.cleaned_data["ip"])
