"""The volume form: every engine field it can set is checked here; console.policy judges the request."""

from __future__ import annotations

from typing import Any

from django import forms

from console.containers.forms import NAME
from console.networks.forms import _multiline, pairs

ADMIN_FIELDS = ("driver", "options")


class VolumeForm(forms.Form):
    """`docker volume create`."""

    name = forms.CharField(max_length=128, required=False, help_text="Empty: the engine names it.")
    labels = _multiline(help_text="key=value, one a line.")
    # Shown to Admins only (ADMIN_FIELDS); who may use them is decided by console.policy on the request.
    driver = forms.CharField(max_length=128, required=False, initial="local")
    options = _multiline(
        label="Driver options", help_text="key=value, one a line, e.g. type=tmpfs, device=tmpfs, o=size=64m."
    )

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in ADMIN_FIELDS]

    def admin_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADMIN_FIELDS]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name and not NAME.fullmatch(name):
            raise forms.ValidationError("A name is letters, digits, _ . and -, starting with a letter or digit.")
        return name

    def clean_driver(self) -> str:
        driver = self.cleaned_data["driver"].strip() or "local"
        if not NAME.fullmatch(driver.replace(":", "_").replace("/", "_")):
            raise forms.ValidationError("Not a volume driver's name.")
        return driver

    def clean_labels(self) -> dict[str, str]:
        return pairs(self.cleaned_data["labels"], "label")

    def clean_options(self) -> dict[str, str]:
        return pairs(self.cleaned_data["options"], "option")

    def spec(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("name", "driver", "labels", "options")}
