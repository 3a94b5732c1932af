from django import forms

from console.images.reference import DOMAIN, InvalidReference, Reference, parse

REFERENCE_MAX = 400  # a registry host, a repository name, a tag and a digest


def _at_most(what: str, limit: int) -> dict[str, str]:
    return {"max_length": f"{what} is at most {limit} characters (this one has %(show_value)d)."}


class ReferenceField(forms.CharField):
    """A field that takes an image reference as typed and cleans it to a parsed Reference."""

    def __init__(self, *, allow_digest: bool = True, **kwargs):
        self.allow_digest = allow_digest
        super().__init__(
            max_length=REFERENCE_MAX, error_messages=_at_most("An image reference", REFERENCE_MAX), **kwargs
        )

    def clean(self, value) -> Reference:
        text = super().clean(value)
        try:
            return parse(text, allow_digest=self.allow_digest)
        except InvalidReference as exc:
            raise forms.ValidationError(str(exc)) from None


class PullForm(forms.Form):
    reference = ReferenceField(label="Image", help_text="httpd, httpd:2.4, registry:5000/team/app:1.0 or name@sha256:…")


class TagForm(forms.Form):
    target = ReferenceField(allow_digest=False, label="New name", help_text="repository:tag, e.g. team/web:1.0")
    # The id of the image the name is on now, sent back when the Operator confirms moving the name from it.
    move = forms.CharField(
        required=False, max_length=71, widget=forms.HiddenInput, error_messages=_at_most("An image id", 71)
    )


class CredentialForm(forms.Form):
    host = forms.CharField(
        max_length=255,
        error_messages=_at_most("A registry host", 255),
        help_text="registry host[:port], e.g. registry.example.com:5000 or docker.io",
    )
    username = forms.CharField(max_length=255, error_messages=_at_most("A username", 255))
    secret = forms.CharField(
        max_length=4000,
        error_messages=_at_most("A password or token", 4000),
        label="Password or token",
        widget=forms.PasswordInput(render_value=False),
        strip=False,
    )

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip().removeprefix("https://").removeprefix("http://").rstrip("/")
        if host in ("index.docker.io", "registry-1.docker.io"):
            host = "docker.io"
        if not DOMAIN.fullmatch(host):
            raise forms.ValidationError(f"“{host}” is not a registry host[:port].")
        return host
