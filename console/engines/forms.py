"""The Engines page's form: an engine's address, its TLS or SSH material, and what people read about it.

Private keys are write-only: the form never renders them, and a blank key on an edit keeps the stored one.
"""

from __future__ import annotations

import re
import urllib.parse

from django import forms
from django.core.validators import validate_slug

from console.engines.models import Engine

PEM_LIMIT = 20_000  # characters; a certificate chain or a private key is a few KB
# Addresses under /engines/ that are pages of the Engines page, not engines.
RESERVED_NAMES = {"new"}
LABEL_KEY = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._/-]{0,62}\Z")
HOST_KEY = re.compile(r"\A[a-z0-9@.-]{3,60} [A-Za-z0-9+/]+={0,3}\Z")
SECRETS = ("tls_key", "ssh_key")
KEY_STORED = "A key is stored. Leave blank to keep it; paste a new one to replace it."


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never shows what it holds: private keys go in, never out."""

    def format_value(self, value):
        return None


def parse_labels(text: str) -> dict[str, str]:
    """ "env=prod, team=ops" → {"env": "prod", "team": "ops"}; ValidationError saying which part is wrong."""
    labels: dict[str, str] = {}
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if not part:
            continue
        key, eq, value = (s.strip() for s in part.partition("="))
        if not eq:
            raise forms.ValidationError(f"“{part}” is not key=value. Write labels like: env=prod, team=ops.")
        if not LABEL_KEY.fullmatch(key):
            raise forms.ValidationError(
                f"“{key}” is not a label key: use letters, digits and . _ / - (at most 63), starting with a "
                "letter or digit."
            )
        if len(value) > 100 or "=" in value:
            raise forms.ValidationError(f"The value of {key} must be at most 100 characters, without “=”.")
        if key in labels:
            raise forms.ValidationError(f"The label {key} is given twice.")
        labels[key] = value
    if len(labels) > 20:
        raise forms.ValidationError("At most 20 labels.")
    return labels


def format_labels(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


def check_url(url: str) -> str:
    """The address if the console can reach an engine there; else a ValidationError saying what works."""
    scheme, _, rest = url.partition("://")
    if scheme == "unix":
        if not rest.startswith("/") or len(rest) < 2:
            raise forms.ValidationError("A unix address names an absolute socket path: unix:///var/run/docker.sock.")
        return url
    if scheme not in ("tcp", "ssh"):
        raise forms.ValidationError(
            "Use unix:///path/to/docker.sock, tcp://host:port (with TLS) or ssh://user@host[:port]."
        )
    parsed = urllib.parse.urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        raise forms.ValidationError(f"The port in {url} is not a number from 1 to 65535.") from None
    if not parsed.hostname or parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise forms.ValidationError(f"{url} needs a host and nothing after it: {scheme}://host:port.")
    if scheme == "tcp":
        if port is None or parsed.username or parsed.password:
            raise forms.ValidationError("A tcp address names a host and a port: tcp://docker.example.net:2376.")
    elif not parsed.username or parsed.password:
        raise forms.ValidationError(
            "An ssh address names the user (and no password; give a key): ssh://user@host or ssh://user@host:2222."
        )
    return url


def endpoint(url: str) -> tuple[str, int | None]:
    """The host and port an address reaches: a change of either means another machine's host key."""
    parsed = urllib.parse.urlsplit(url)
    try:
        return (parsed.hostname or "", parsed.port)
    except ValueError:
        return (parsed.hostname or "", None)


def _pem(text: str, label: str) -> str:
    text = text.strip().replace("\r\n", "\n")
    if not text:
        return ""
    if len(text) > PEM_LIMIT:
        raise forms.ValidationError(f"The {label} is {len(text)} characters; at most {PEM_LIMIT} are accepted.")
    if not text.startswith("-----BEGIN ") or "-----END " not in text:
        raise forms.ValidationError(f"The {label} is not PEM: paste the text from -----BEGIN … to -----END ….")
    return text + "\n"


class EngineForm(forms.Form):
    name = forms.CharField(
        max_length=40,
        validators=[validate_slug],
        help_text="Letters, digits, - and _; it is in every address of the engine and cannot change later.",
    )
    description = forms.CharField(max_length=200, required=False)
    labels = forms.CharField(
        max_length=2000, required=False, help_text="key=value pairs, comma-separated: env=prod, team=ops"
    )
    url = forms.CharField(
        label="Address",
        max_length=300,
        required=False,
        help_text="unix:///var/run/docker.sock, tcp://host:2376 (TLS) or ssh://user@host[:port]",
    )
    tls_ca = forms.CharField(label="TLS CA certificate (PEM)", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tls_cert = forms.CharField(
        label="TLS client certificate (PEM)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tls_key = forms.CharField(
        label="TLS client key (PEM)", required=False, widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"})
    )
    ssh_key = forms.CharField(
        label="SSH private key", required=False, widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"})
    )
    insecure = forms.BooleanField(
        label="Plain TCP without TLS (insecure: anyone on the network path can drive this engine)", required=False
    )
    host_key = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    accept_host_key = forms.BooleanField(label="Accept this host key", required=False)

    def __init__(self, *args, instance: Engine | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "labels": format_labels(instance.labels),
                "url": instance.url,
                "tls_ca": instance.tls_ca,
                "tls_cert": instance.tls_cert,
                "insecure": instance.insecure,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            # The name is in every address of the engine, its jobs and its audit trail: it never changes.
            self.fields["name"].disabled = True
            for field in SECRETS:
                if getattr(instance, field):
                    self.fields[field].help_text = KEY_STORED
        if self.environment:
            for field in ("url", "tls_ca", "tls_cert", "tls_key", "ssh_key", "insecure"):
                self.fields[field].disabled = True

    @property
    def environment(self) -> bool:
        return self.instance is not None and self.instance.from_environment

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance is not None:
            return self.instance.name
        if name in RESERVED_NAMES:
            raise forms.ValidationError(f"“{name}” is a page of the Engines list; choose another name.")
        if Engine.objects.filter(name=name).exists():
            raise forms.ValidationError(f"An engine named {name} already exists.")
        return name

    def clean_labels(self) -> dict[str, str]:
        return parse_labels(self.cleaned_data["labels"])

    def clean_url(self) -> str:
        if self.environment:
            return ""
        url = self.cleaned_data["url"].strip()
        if not url:
            raise forms.ValidationError("Give the engine's address.")
        return check_url(url)

    def clean_tls_ca(self) -> str:
        return _pem(self.cleaned_data["tls_ca"], "CA certificate")

    def clean_tls_cert(self) -> str:
        return _pem(self.cleaned_data["tls_cert"], "client certificate")

    def clean_tls_key(self) -> str:
        return _pem(self.cleaned_data["tls_key"], "client key")

    def clean_ssh_key(self) -> str:
        return _pem(self.cleaned_data["ssh_key"], "SSH private key")

    def clean_host_key(self) -> str:
        line = self.cleaned_data["host_key"].strip()
        if line and not HOST_KEY.fullmatch(line):
            raise forms.ValidationError("The host key offered is not “<type> <base64>”; test the connection again.")
        return line

    def _stored(self, field: str) -> bool:
        return bool(self.instance is not None and getattr(self.instance, field))

    def clean(self):
        cleaned = super().clean()
        if self.environment or self.errors:
            return cleaned
        scheme = cleaned["url"].partition("://")[0]
        tls_given = [f for f in ("tls_ca", "tls_cert", "tls_key") if cleaned[f]]
        if scheme != "tcp" and tls_given:
            self.add_error("tls_cert", "TLS certificates are for tcp:// addresses; leave them blank for this one.")
        if scheme != "ssh" and cleaned["ssh_key"]:
            self.add_error("ssh_key", "An SSH key is for ssh:// addresses; leave it blank for this one.")
        if scheme == "tcp":
            has_key = bool(cleaned["tls_key"]) or self._stored("tls_key")
            if cleaned["tls_cert"] and not has_key:
                self.add_error("tls_key", "A client certificate needs its private key.")
            if has_key and cleaned["tls_key"] and not cleaned["tls_cert"]:
                self.add_error("tls_cert", "A client key needs its certificate.")
            if not (cleaned["tls_ca"] or cleaned["tls_cert"]) and not cleaned["insecure"]:
                self.add_error(
                    "insecure",
                    "Plain tcp:// without TLS lets anyone on the network path drive this engine. Give its TLS "
                    "certificates, or tick “insecure” to say you accept that.",
                )
        if cleaned["accept_host_key"] and not cleaned["host_key"]:
            self.add_error("accept_host_key", "No host key was offered: test the connection first.")
        return cleaned

    def tls(self) -> bool:
        return bool(self.cleaned_data.get("tls_ca") or self.cleaned_data.get("tls_cert"))

    def pinned_key(self) -> str:
        """The host key the saved engine pins: one just accepted, else the stored one while host and port stay."""
        data = self.cleaned_data
        if not data["url"].startswith("ssh://"):
            return ""
        if data["accept_host_key"] and data["host_key"]:
            return data["host_key"]
        if self.instance is not None and endpoint(self.instance.url) == endpoint(data["url"]):
            return self.instance.ssh_host_key
        return ""
